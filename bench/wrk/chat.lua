-- wrk script for the Switchyard benchmarks.
-- Usage: wrk ... -s bench/wrk/chat.lua URL -- MODEL [stream]
-- Sends POST {"model":MODEL,"messages":[{"role":"user","content":"hi"}]} (plus "stream":true
-- when the second argument is "stream"; plus "max_tokens":256, which Anthropic's Messages API
-- requires, when the URL is a /v1/messages door; {"model":MODEL,"input":"hi"} instead at the
-- /v1/responses door) and prints one machine-readable line at the end:
--   WRKJSON {...}
-- Latencies are in microseconds. err_status counts responses with status >= 400 (wrk's own
-- "Non-2xx or 3xx" counter); the other err_* are socket-level errors.

function init(args)
   local model = args[1] or "bench"
   local stream = args[2] == "stream"
   wrk.method = "POST"
   local messages = string.find(wrk.path, "/v1/messages$") ~= nil
   local responses = string.find(wrk.path, "/v1/responses$") ~= nil
   local turns = responses and '"input":"hi"' or '"messages":[{"role":"user","content":"hi"}]'
   wrk.body = '{"model":"' .. model .. '",' .. (messages and '"max_tokens":256,' or '')
      .. turns .. (stream and ',"stream":true' or '') .. '}'
   wrk.headers["Content-Type"] = "application/json"
   -- a keyed target's virtual key (bench/keyed.py), else bench/switchyard.yaml's master key
   local key = os.getenv("SWITCHYARD_BENCH_KEY") or "sk-bench-5b1c2f0e9d8a4c3b7e6f1a2d3c4b5a69"
   wrk.headers["Authorization"] = "Bearer " .. key
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,'
      .. '"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max))
end
