"""Counters in Redis, shared by every replica: one Lua script per admission, sent over the
lean pipelined client of :mod:`switchyard.limits.resp`.

The script reads every counter of the admission, refuses at the first one over its limit
(changing nothing), and otherwise charges them all: atomic, so replicas racing for the last
unit cannot both win, and one round trip whatever the number of limits. Time is the Redis
server's ``TIME``, so the replicas' clocks do not matter for GCRA. Corrections (the real
usage after the answer) are a second script, sent off the request path.

Keys are ``<prefix><rule key>``; a GCRA key expires when its window is whole again, a calendar
counter a day after its period ends, a ``total`` budget never. Errors (connection refused, a
timeout, a Redis error) raise :class:`BackendUnavailable`; the
:class:`~switchyard.limits.limiter.Limiter` applies the configured policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from switchyard.limits.resp import RespClient, RespError
from switchyard.limits.rules import (
    KEEP_AFTER_PERIOD,
    BackendUnavailable,
    Correction,
    Rule,
    Verdict,
)

# One script for both steps, so the corrections of earlier requests ride along with the next
# admission (no round trip of their own while requests keep coming):
# KEYS: the corrections' counters, then the rules' counters.
# ARGV: the number of corrections; 3 per correction (kind, delta, per: GCRA seconds per unit);
# 4 per rule (kind, limit, amount, span); how long a calendar counter outlives its period.
# Returns {0, i, retry_after} refused by rule i; {2, i} budget i must be seeded first;
# {1, remaining_1, reset_1, remaining_2, ...} admitted (corrections are applied either way).
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nc = tonumber(ARGV[1])
for i = 1, nc do
  local kind, delta, per = ARGV[3*i-1], tonumber(ARGV[3*i]), tonumber(ARGV[3*i+1])
  local raw = redis.call('GET', KEYS[i])
  if raw then
    if kind == 'g' then
      local tat = tonumber(raw)
      if not (tat <= now and delta < 0) then
        local new = math.max(math.max(tat, now) + delta * per, now)
        local ms = math.ceil((new - now) * 1000) + 1000
        redis.call('SET', KEYS[i], string.format('%.6f', new), 'PX', ms)
      end
    else
      redis.call('INCRBY', KEYS[i], delta)
    end
  end
end
local base = 1 + 3 * nc
local keep = tonumber(ARGV[#ARGV])
local nr = #KEYS - nc
local news = {}
for j = 1, nr do
  local a = base + 4 * (j - 1)
  local kind, limit = ARGV[a+1], tonumber(ARGV[a+2])
  local amount, span = tonumber(ARGV[a+3]), tonumber(ARGV[a+4])
  local raw = redis.call('GET', KEYS[nc+j])
  local value = tonumber(raw or '0')
  local new
  if kind == 'g' then
    new = math.max(value, now) + amount * span / limit
    if new - now > span + 1e-4 then return {0, j, string.format('%.6f', new - span - now)} end
  elseif kind == 'b' then
    if not raw then return {2, j} end
    if value >= limit then return {0, j, string.format('%.6f', span)} end
    new = value + amount
  else
    new = value + amount
    if new > limit then return {0, j, string.format('%.6f', span)} end
  end
  news[j] = new
end
local out = {1}
for j = 1, nr do
  local a = base + 4 * (j - 1)
  local kind, limit = ARGV[a+1], tonumber(ARGV[a+2])
  local amount, span = tonumber(ARGV[a+3]), tonumber(ARGV[a+4])
  local key, new = KEYS[nc+j], news[j]
  if kind == 'g' then
    local ms = math.ceil((new - now) * 1000) + 1000
    redis.call('SET', key, string.format('%.6f', new), 'PX', ms)
    out[#out+1] = tostring(math.floor((span - (new - now)) * limit / span + 1e-4))
    out[#out+1] = string.format('%.6f', new - now)
  else
    local used = redis.call('INCRBY', key, amount)
    if span > 0 then redis.call('EXPIRE', key, math.ceil(span + keep)) end
    out[#out+1] = tostring(limit - used)
    out[#out+1] = string.format('%.6f', span)
  end
end
return out
"""


# Reading the counters, read-only: KEYS the counters, ARGV their kinds. Returns per counter a
# GCRA counter's backlog (seconds ahead of now, on Redis's clock), another's value, or '' for a
# counter that does not exist.
_PEEK_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local out = {}
for j = 1, #KEYS do
  local raw = redis.call('GET', KEYS[j])
  if ARGV[j] == 'g' then
    out[j] = string.format('%.6f', math.max(tonumber(raw or '0') - now, 0))
  else
    out[j] = raw or ''
  end
end
return out
"""


class _Script:
    """A Lua script sent by its SHA1 (EVALSHA), and whole once when Redis does not know it
    (a restarted or flushed server)."""

    def __init__(self, source: str) -> None:
        self.source = source.encode()
        self.sha = hashlib.sha1(self.source).hexdigest().encode()

    async def __call__(self, client: RespClient, keys: list[str], args: list[Any]) -> Any:
        try:
            return await client.call(b"EVALSHA", self.sha, len(keys), *keys, *args)
        except RespError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await client.call(b"EVAL", self.source, len(keys), *keys, *args)


_ADMIT = _Script(_SCRIPT)
_PEEK = _Script(_PEEK_SCRIPT)


class RedisCounters:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "switchyard:limits:",
        timeout: float = 0.25,
    ) -> None:
        self.prefix = prefix
        self.timeout = timeout
        self.where = safe_location(url)
        self.client = RespClient(url, timeout=timeout)

    async def acquire(
        self, rules: Sequence[Rule], corrections: Sequence[Correction] = ()
    ) -> Verdict:
        prefix = self.prefix
        keys = [prefix + fix.key for fix in corrections]
        keys += [prefix + rule.key for rule in rules]
        args: list[Any] = [len(corrections)]
        for fix in corrections:
            args += (fix.kind, fix.delta, fix.per)
        for rule in rules:
            args += (rule.kind, rule.limit, rule.amount, rule.span)
        args.append(KEEP_AFTER_PERIOD)
        reply = await self._call(_ADMIT(self.client, keys, args))
        status = int(reply[0])
        if status == 0:
            return Verdict(refused=int(reply[1]) - 1, retry_after=float(reply[2]))
        if status == 2:
            return Verdict(seed=int(reply[1]) - 1)
        numbers = [float(v) for v in reply[1:]]
        return Verdict(remaining=tuple(numbers[0::2]), reset=tuple(numbers[1::2]))

    async def correct(self, corrections: Sequence[Correction]) -> None:
        await self.acquire((), corrections)

    async def seed(self, key: str, units: int, ttl: float) -> None:
        command: tuple[Any, ...] = (b"SET", self.prefix + key, units, b"NX")
        if ttl:
            command += (b"EX", int(ttl + KEEP_AFTER_PERIOD) + 1)
        await self._call(self.client.call(*command))

    async def value(self, key: str) -> float | None:
        raw = await self._call(self.client.call(b"GET", self.prefix + key))
        return None if raw is None else float(raw)

    async def peek(self, rules: Sequence[Rule]) -> list[float | None]:
        """As :meth:`MemoryCounters.peek`, in one read-only script (Redis's clock)."""
        if not rules:
            return []
        keys = [self.prefix + rule.key for rule in rules]
        reply = await self._call(_PEEK(self.client, keys, [rule.kind for rule in rules]))
        return [None if raw in (b"", "") else float(raw) for raw in reply]

    async def ping(self) -> None:
        await self._call(self.client.call(b"PING"))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _call(self, work: Any) -> Any:
        """``work``, with a Redis error reply as :class:`BackendUnavailable` too (the
        client bounds every call by ``timeout``: a limit check never hangs a request)."""
        try:
            return await work
        except RespError as exc:
            raise BackendUnavailable(f"Redis answered an error: {str(exc)[:200]}") from None


def safe_location(url: str) -> str:
    """``redis://host:port/db`` without user or password, for log lines and errors."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


__all__ = ["RedisCounters", "safe_location"]
