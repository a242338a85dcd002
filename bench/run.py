"""Gateway overhead benchmark: direct nginx vs Switchyard vs LiteLLM proxy.

    bash bench/setup.sh                       # once: wrk, nginx, the LiteLLM venv
    .venv/bin/python bench/run.py        # ~3 minutes with the defaults

For each target the harness starts the server (pinned to its own core), measures the time from
spawn to the first successful chat completion, reads its idle RSS, warms it up, then drives it
with wrk (POST /v1/chat/completions, bench/wrk/chat.lua) at concurrency 1, 16 and 64, plus the
streaming variant (SSE upstream) at 16. Around every run it reads the CPU time of the server's
whole process tree from /proc. With the target switchyard+limits-2w it then runs one worker
against two in interleaved rounds (bench/scaling.py) for the --workers 2 check. Everything goes
to 127.0.0.1; every run is bounded in time.

Prints Markdown tables and writes bench/results/<timestamp>.md and .json. Exits 1 when any run
had errors (non-2xx answers or socket errors) or a target failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BENCH_DIR,
    GATEWAY_CPUS,
    NCPU,
    NOISY_CORE_SHARE,
    REPO_DIR,
    RESULTS_DIR,
    UPSTREAM,
    Nginx,
    Server,
    add_noise_options,
    check_noise_options,
    fmt,
    log,
    measure,
    measure_quietest,
    other_load_cell,
    process_tree,
    rate_cells,
    start_session,
    tree_hwm_mib,
    tree_rss_mib,
)
from keyed import DATABASES, Keyed, prepare
from scaling import paired_scaling, render_pairs

# The switchyard next to the interpreter running this script (so `.venv/bin/python bench/run.py`
# benchmarks that venv's install), else the one on PATH; SWITCHYARD_BIN overrides.
SWITCHYARD_BIN = os.environ.get("SWITCHYARD_BIN") or (
    str(Path(sys.executable).parent / "switchyard")
    if (Path(sys.executable).parent / "switchyard").exists()
    else (shutil.which("switchyard") or "switchyard")
)
LITELLM_BIN = str(BENCH_DIR / ".venv-litellm" / "bin" / "litellm")
SWITCHYARD_PORT = 18090  # also in bench/switchyard.yaml
LITELLM_PORT = 18091
LITELLM_ENV = {
    "LITELLM_LOG": "ERROR",  # also turns uvicorn's access log off
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no network fetches at start-up
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "DISABLE_ADMIN_UI": "True",
}
MESSAGES = "switchyard+messages"  # the same server, driven through its Anthropic door
MESSAGES_PATH = "/v1/messages"
RESPONSES = "switchyard+responses"  # the same server, through its OpenAI Responses door
RESPONSES_PATH = "/v1/responses"
BARE = "switchyard+bare"  # metrics off and no per-request log line: what observability costs
# the same server and config, driven through the native door (POST /api/v1/complete and
# /api/v1/complete/stream, the same body) instead of the OpenAI one
NATIVE = "switchyard+native"
NATIVE_PATH = "/api/v1/complete"
# the native, Anthropic and Responses doors: CPU µs/req vs the OpenAI door, same load, same run
MAX_DOOR_RATIO = 1.2
# the bench config with one feature on, each compared with "switchyard" in the same run
FEATURES = {
    "switchyard+limits": BENCH_DIR / "limits.yaml",  # Redis limits and a budget (issue 10)
    "switchyard+cache-hit": BENCH_DIR / "cache.yaml",  # every answer from the memory cache
    "switchyard+events": BENCH_DIR / "events.yaml",  # usage events to the local NATS (issue 11)
    "switchyard+tracing": BENCH_DIR / "tracing.yaml",  # OpenTelemetry spans (issue 11)
}
# Redis limits + budget again, served by `serve --workers 2` on every CPU (issue 14); wrk,
# nginx and Redis then share core 0 with one of the workers
TWO_WORKERS = "switchyard+limits-2w"
FEATURES[TWO_WORKERS] = BENCH_DIR / "limits.yaml"
MAX_LIMITS_RATIO = 1.5  # Redis limits + budget: CPU µs/req at c=16 vs the bare gateway
MIN_WORKERS_SCALING = 1.6  # req/s of 2 workers vs 1, Redis limits on, c=64, same run
WORKERS_PAIR_CONNECTIONS = 64  # the load of bench/scaling.py's interleaved pairs
# usage events to NATS: CPU µs/req at c=16 vs the gateway without (the issue names no ratio for
# events; two JSON envelopes and two publishes per request measured about 1.2x)
MAX_EVENTS_RATIO = 1.25
# a feature's environment; its server's standard output goes to /dev/null (the console
# exporter writes every span there: serialised and written for real, not kept in the log)
FEATURE_ENV = {"switchyard+tracing": {"OTEL_TRACES_EXPORTER": "console"}}
MAX_TRACING_RATIO = 1.5  # tracing on: CPU µs/req at c=16 vs the gateway without it
ALL_TARGETS = (
    "direct",
    BARE,
    "switchyard",
    NATIVE,
    MESSAGES,
    RESPONSES,
    "switchyard+keys-sqlite",
    "switchyard+keys-pg",
    *FEATURES,
    "litellm",
)

# Targets from the task, checked on every run.
MAX_CPU_RATIO = 0.10  # Switchyard CPU µs/req <= 1/10 of LiteLLM's
MAX_ADDED_P50_MS = 1.0  # Switchyard p50 at c=1 minus direct p50 at c=1
MAX_STARTUP_S = 3.0
MAX_IDLE_RSS_MIB = 120.0
MAX_KEYED_RATIO = 1.3  # keys + usage ledger: CPU µs/req at c=16 vs the bare gateway, same run
MAX_OBSERVED_RATIO = 1.15  # metrics + request logs on (the default) vs BARE, c=16, same run


def switchyard_available() -> tuple[bool, str]:
    if not Path(SWITCHYARD_BIN).exists():
        return False, f"{SWITCHYARD_BIN} not found"
    try:
        r = subprocess.run(
            [SWITCHYARD_BIN, "serve", "--help"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as e:
        return False, str(e)
    if r.returncode != 0:
        return False, "`switchyard serve --help` failed: " + (r.stderr or r.stdout).strip()[-300:]
    return True, ""


def baseline_tree(ref: str) -> Path:
    """A checkout of ``ref`` (a commit, tag or branch of this repository) in a scratch folder,
    whose ``src/`` the ``switchyard@REF`` target runs with this venv's packages."""
    rev = subprocess.run(
        ["git", "-C", str(REPO_DIR), "rev-parse", "--short", ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tree = Path("/tmp") / f"switchyard-baseline-{rev}"
    if not (tree / "src" / "switchyard").is_dir():
        subprocess.run(
            ["git", "-C", str(REPO_DIR), "worktree", "add", "--detach", "-f", str(tree), rev],
            capture_output=True,
            check=True,
        )
    return tree


def bare_config(stamp: str) -> Path:
    """bench/switchyard.yaml with metrics off and the log at warning (no line per request)."""
    config = yaml.safe_load((BENCH_DIR / "switchyard.yaml").read_text())
    config["server"].update({"metrics": False, "log_level": "warning"})
    path = RESULTS_DIR / f"{stamp}-switchyard-bare.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def make_server(
    target: str, stamp: str, baseline: Path | None = None, config: Path | None = None
) -> Server:
    logs = RESULTS_DIR / f"{stamp}-{target.replace('@', '-at-').replace('+', '-')}.log"
    if target.startswith("switchyard@") and baseline is not None:
        return Server(
            target,
            [
                sys.executable,
                "-m",
                "switchyard",
                "serve",
                "--config",
                str(BENCH_DIR / "switchyard.yaml"),
            ],
            SWITCHYARD_PORT,
            env={"PYTHONPATH": str(baseline / "src")},
            startup_timeout=60,
            log_path=logs,
        )
    if target in ("switchyard", BARE, NATIVE, MESSAGES, RESPONSES, *DATABASES, *FEATURES):
        workers = ["--workers", "2"] if target == TWO_WORKERS else []
        config = config or BENCH_DIR / "switchyard.yaml"
        env = FEATURE_ENV.get(target)
        return Server(
            target,
            [SWITCHYARD_BIN, "serve", "--config", str(config), *workers],
            SWITCHYARD_PORT,
            env=env or {},
            startup_timeout=60,
            log_path=logs,
            cpus=f"0-{NCPU - 1}" if workers else GATEWAY_CPUS,
            quiet_stdout=env is not None,
        )
    if target == "litellm":
        return Server(
            "litellm",
            [
                LITELLM_BIN,
                "--config",
                str(BENCH_DIR / "litellm.yaml"),
                "--host",
                "127.0.0.1",
                "--port",
                str(LITELLM_PORT),
                "--num_workers",
                "1",
            ],
            LITELLM_PORT,
            env=LITELLM_ENV,
            startup_timeout=120,
            log_path=logs,
        )
    raise ValueError(target)


def bench_target(
    target: str, pid: int, url: str, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], int]:
    """The measured runs, and how many requests got an answer in all (warm-up included)."""
    runs = []
    answered = 0
    if args.warmup:
        log(f"{target}: warm-up {args.warmup:g} s")
        answered += measure(pid, url, 16, args.warmup)["requests"]
    for c in args.concurrency:
        log(f"{target}: c={c}, {args.duration:g} s")
        r = measure_quietest(pid, url, c, args.duration, args.noisy_retries)
        r["load"] = f"c={c}"
        runs.append(r)
    if not args.no_stream:
        sse_url = url.replace("/v1/", "/sse/v1/") if target == "direct" else url
        if target == NATIVE:  # its own streaming route, the body without "stream": true
            sse_url = f"{url}/stream"
        log(f"{target}: streaming c={args.stream_concurrency}, {args.duration:g} s")
        r = measure_quietest(
            pid,
            sse_url,
            args.stream_concurrency,
            args.duration,
            args.noisy_retries,
            model="bench-stream",
            stream=target != NATIVE,
        )
        r["load"] = f"stream c={args.stream_concurrency}"
        runs.append(r)
    for r in runs:
        answered += r["answered_all_attempts"]
        log(
            f"{target} {r['load']}: {r['rps']:.0f} req/s, p50 {r['lat_p50_us'] / 1000:.2f} ms, "
            f"{fmt(r['cpu_us_per_req'])} µs CPU/req, errors {r['errors']}"
        )
    return runs, answered


def main() -> int:
    ap = argparse.ArgumentParser(description="Switchyard vs LiteLLM vs direct: gateway overhead")
    ap.add_argument(
        "--targets",
        default=",".join(ALL_TARGETS),
        help="comma-separated subset of: " + ", ".join(ALL_TARGETS),
    )
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up at c=16")
    ap.add_argument("--concurrency", default="1,16,64")
    ap.add_argument("--stream-concurrency", type=int, default=16)
    ap.add_argument("--no-stream", action="store_true")
    ap.add_argument(
        "--baseline",
        metavar="REF",
        help="also run the Switchyard of git REF (a target 'switchyard@REF' right after "
        "'switchyard', same run, same venv): how a change moved the numbers",
    )
    ap.add_argument(
        "--baseline-first",
        action="store_true",
        help="run switchyard@REF before switchyard (alternate runs to cancel an order effect)",
    )
    ap.add_argument(
        "--pair-rounds",
        type=int,
        default=5,
        help=f"with {TWO_WORKERS}: rounds of one worker against two, interleaved "
        "(bench/scaling.py); 0: none",
    )
    add_noise_options(ap)
    args = ap.parse_args()
    check_noise_options(ap, args)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    bad = [t for t in targets if t not in ALL_TARGETS]
    baseline = baseline_tree(args.baseline) if args.baseline else None
    if baseline is not None:
        at = targets.index("switchyard") + 1 if "switchyard" in targets else len(targets)
        if args.baseline_first and "switchyard" in targets:
            at -= 1
        targets.insert(at, f"switchyard@{args.baseline}")
        bad = [t for t in bad if not t.startswith("switchyard@")]
    if bad:
        ap.error(f"unknown targets {bad}")
    if not (
        0 < args.duration <= 60
        and 0 <= args.warmup <= 30
        and all(1 <= c <= 256 for c in [*args.concurrency, args.stream_concurrency])
        and 0 <= args.pair_rounds <= 15
    ):
        ap.error(
            "duration must be in (0, 60], warmup in [0, 30], concurrency in [1, 256], "
            "--pair-rounds in [0, 15]"
        )

    stamp, env_info = start_session(args.wait_quiet)
    results: dict[str, dict[str, Any]] = {}
    pairs: dict[str, Any] | None = None
    t_start = time.monotonic()

    with Nginx() as nginx:
        for target in targets:
            if target == "direct":
                log("direct: wrk straight at nginx")
                results["direct"] = {
                    "runs": bench_target(
                        "direct", nginx.pid, f"{UPSTREAM}/v1/chat/completions", args
                    )[0],
                    "idle_rss_mib": None,
                    "peak_rss_mib": tree_hwm_mib(nginx.pid),
                    "startup_s": None,
                }
                continue
            if target == "switchyard" or target.startswith("switchyard+"):
                ok, why = switchyard_available()
                if not ok:
                    log(f"{target}: skipped: {why}")
                    results[target] = {"skipped": why}
                    continue
            if target == "litellm" and not Path(LITELLM_BIN).exists():
                why = f"{LITELLM_BIN} missing: run bash bench/setup.sh"
                log(f"litellm: skipped: {why}")
                results["litellm"] = {"skipped": why}
                continue
            keyed: Keyed | None = None
            try:
                if target in DATABASES:
                    keyed = prepare(target, stamp)
                config = (
                    keyed.config
                    if keyed
                    else bare_config(stamp)
                    if target == BARE
                    else FEATURES.get(target)
                )
                srv = make_server(target, stamp, baseline, config)
            except Exception as e:
                log(f"{target}: FAILED to prepare: {e}")
                results[target] = {"failed": f"preparing: {e}"}
                if keyed is not None:
                    keyed.cleanup()
                continue
            log(f"{target}: starting: {' '.join(srv.cmd)}")
            try:
                startup = srv.start()
                time.sleep(0.5)
                idle = tree_rss_mib(srv.pid)
                log(f"{target}: first answer after {startup:.2f} s, idle RSS {idle:.1f} MiB")
                url = srv.url
                if target == NATIVE:
                    url = url.replace("/v1/chat/completions", NATIVE_PATH)
                if target == MESSAGES:  # an Anthropic body (bench/wrk/chat.lua), same upstream
                    url = url.replace("/v1/chat/completions", MESSAGES_PATH)
                if target == RESPONSES:  # a Responses body (bench/wrk/chat.lua), same upstream
                    url = url.replace("/v1/chat/completions", RESPONSES_PATH)
                runs, answered = bench_target(target, srv.pid, url, args)
                results[target] = {
                    "runs": runs,
                    "startup_s": startup,
                    "idle_rss_mib": idle,
                    "peak_rss_mib": tree_hwm_mib(srv.pid),
                    "processes": len(process_tree(srv.pid)),
                }
                srv.stop()  # SIGTERM: drains, then writes every queued usage row
                if keyed is not None:
                    rows = keyed.rows()
                    results[target]["usage"] = {"answered": answered + 1, "rows": rows}
                    log(f"{target}: {answered + 1} answered (probe included), usage rows {rows}")
            except Exception as e:
                log(f"{target}: FAILED: {e}")
                results[target] = {"failed": str(e)}
            finally:
                srv.stop()
                if keyed is not None:
                    keyed.cleanup()
        if TWO_WORKERS in targets and args.pair_rounds and switchyard_available()[0]:
            log(f"--workers 2 against one worker: {args.pair_rounds} interleaved rounds")
            try:
                pairs = paired_scaling(
                    SWITCHYARD_BIN,
                    FEATURES[TWO_WORKERS],
                    str(RESULTS_DIR / f"{stamp}-workers-pair"),
                    WORKERS_PAIR_CONNECTIONS,
                    args.duration,
                    args.pair_rounds,
                )
            except Exception as e:
                log(f"workers pair: FAILED: {e}")
                pairs = {"failed": str(e)}

    elapsed = time.monotonic() - t_start
    checks = check_targets(results, pairs)
    md = render(results, checks, args, env_info, stamp, elapsed, pairs)
    print(md)
    (RESULTS_DIR / f"{stamp}.md").write_text(md)
    (RESULTS_DIR / f"{stamp}.json").write_text(
        json.dumps(
            {
                "stamp": stamp,
                "environment": env_info,
                "args": {k: v for k, v in vars(args).items()},
                "elapsed_s": elapsed,
                "results": results,
                "workers_pairs": pairs,
                "checks": checks,
            },
            indent=2,
        )
    )
    log(f"wrote {RESULTS_DIR.relative_to(REPO_DIR)}/{stamp}.md and .json ({elapsed:.0f} s)")
    failed = any("failed" in r for r in results.values()) or bool(pairs and "failed" in pairs)
    errors = any(run["errors"] for r in results.values() for run in r.get("runs", []))
    if any(run["noisy"] for r in results.values() for run in r.get("runs", [])):
        log("warning: some runs were noisy (other jobs used the CPU): see 'other load'")
    return 1 if failed or errors else 0


def _run(results: dict[str, Any], target: str, load: str) -> dict[str, Any] | None:
    for r in results.get(target, {}).get("runs", []):
        if r["load"] == load:
            return r
    return None


def check_targets(
    results: dict[str, Any], pairs: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    sy = results.get("switchyard", {})
    checks: list[dict[str, Any]] = []

    def add(name: str, value: str, ok: bool | None) -> None:
        checks.append(
            {
                "target": name,
                "measured": value,
                "status": "n/a" if ok is None else ("PASS" if ok else "FAIL"),
            }
        )

    for load in ("c=1", "c=16", "c=64"):
        s, lite = _run(results, "switchyard", load), _run(results, "litellm", load)
        if s and lite and s["cpu_us_per_req"] and lite["cpu_us_per_req"]:
            ratio = s["cpu_us_per_req"] / lite["cpu_us_per_req"]
            add(
                f"CPU µs/req ≤ 1/10 of LiteLLM ({load})",
                f"{s['cpu_us_per_req']:.0f} vs {lite['cpu_us_per_req']:.0f} µs (ratio {ratio:.3f})",
                ratio <= MAX_CPU_RATIO,
            )
        else:
            add(f"CPU µs/req ≤ 1/10 of LiteLLM ({load})", "-", None)
    s1, d1 = _run(results, "switchyard", "c=1"), _run(results, "direct", "c=1")
    if s1 and d1:
        added = (s1["lat_p50_us"] - d1["lat_p50_us"]) / 1000
        add("added p50 latency at c=1 < 1 ms", f"{added:.3f} ms", added < MAX_ADDED_P50_MS)
    else:
        add("added p50 latency at c=1 < 1 ms", "-", None)
    st = sy.get("startup_s")
    add(
        "start-up to first answer < 3 s",
        fmt(st, 2) + " s" if st else "-",
        None if st is None else st < MAX_STARTUP_S,
    )
    rss = sy.get("idle_rss_mib")
    add(
        "idle RSS < 120 MiB",
        fmt(rss, 1) + " MiB" if rss else "-",
        None if rss is None else rss < MAX_IDLE_RSS_MIB,
    )

    def cpu_ratio(name: str, target: str, base: str, load: str, limit: float | None) -> None:
        """``target``'s CPU µs/req against ``base``'s at ``load``, in this run (``limit``:
        the most it may be; None: reported only)."""
        mine, theirs = _run(results, target, load), _run(results, base, load)
        if mine and theirs and mine["cpu_us_per_req"] and theirs["cpu_us_per_req"]:
            ratio = mine["cpu_us_per_req"] / theirs["cpu_us_per_req"]
            add(
                name,
                f"{mine['cpu_us_per_req']:.0f} vs {theirs['cpu_us_per_req']:.0f} µs "
                f"(ratio {ratio:.3f})",
                None if limit is None else ratio <= limit,
            )

    cpu_ratio(
        f"metrics + logs: CPU µs/req ≤ {MAX_OBSERVED_RATIO}x metrics and logs off (c=16)",
        "switchyard",
        BARE,
        "c=16",
        MAX_OBSERVED_RATIO,
    )
    for target in DATABASES:
        cpu_ratio(
            f"{target}: CPU µs/req ≤ {MAX_KEYED_RATIO}x the bare gateway (c=16)",
            target,
            "switchyard",
            "c=16",
            MAX_KEYED_RATIO,
        )
        usage = results.get(target, {}).get("usage")
        if usage:
            rows = usage["rows"]
            lost = max(0, usage["answered"] - rows.get("success", 0))
            add(
                f"{target}: usage rows lost = 0",
                f"{usage['answered']} answered, {rows.get('success', 0)} success rows, "
                f"{sum(v for k, v in rows.items() if k != 'not_attributed')} rows in all, "
                f"{rows.get('not_attributed', 0)} not attributed to the key's tenant",
                lost == 0 and not rows.get("not_attributed"),
            )
    for door, path in (
        (NATIVE, NATIVE_PATH),
        (MESSAGES, MESSAGES_PATH),
        (RESPONSES, RESPONSES_PATH),
    ):
        for run in results.get(door, {}).get("runs", []):  # every load both doors ran
            load = run["load"]
            cpu_ratio(
                f"{path}: CPU µs/req ≤ {MAX_DOOR_RATIO}x /v1/chat/completions ({load})",
                door,
                "switchyard",
                load,
                MAX_DOOR_RATIO,
            )
    cpu_ratio(
        f"switchyard+limits: CPU µs/req ≤ {MAX_LIMITS_RATIO}x the bare gateway (c=16)",
        "switchyard+limits",
        "switchyard",
        "c=16",
        MAX_LIMITS_RATIO,
    )
    scaling = f"--workers 2: req/s ≥ {MIN_WORKERS_SCALING}x one worker, Redis limits on (c=64)"
    if pairs and "ratio" in pairs:
        add(
            f"{scaling}, median of {len(pairs['one_rps'])} interleaved rounds",
            f"{statistics.median(pairs['two_rps']):.0f} vs "
            f"{statistics.median(pairs['one_rps']):.0f} req/s (ratio {pairs['ratio']:.2f}; "
            f"rounds {min(pairs['round_ratios']):.2f}-{max(pairs['round_ratios']):.2f})",
            pairs["ratio"] >= MIN_WORKERS_SCALING,
        )
    one, two = _run(results, "switchyard+limits", "c=64"), _run(results, TWO_WORKERS, "c=64")
    if one and two and one["rps"]:  # one run each, minutes apart: reported, not checked
        add(
            f"{scaling}, the table's single runs",
            f"{two['rps']:.0f} vs {one['rps']:.0f} req/s (ratio {two['rps'] / one['rps']:.2f})",
            None,
        )
    cpu_ratio(
        f"switchyard+events: CPU µs/req ≤ {MAX_EVENTS_RATIO}x the gateway without (c=16)",
        "switchyard+events",
        "switchyard",
        "c=16",
        MAX_EVENTS_RATIO,
    )
    for load in ("c=16", "stream c=16"):
        cpu_ratio(
            f"switchyard+tracing: CPU µs/req ≤ {MAX_TRACING_RATIO}x without tracing ({load})",
            "switchyard+tracing",
            "switchyard",
            load,
            MAX_TRACING_RATIO if load == "c=16" else None,
        )
    for load in ("c=1", "c=16"):
        hit, direct = _run(results, "switchyard+cache-hit", load), _run(results, "direct", load)
        if hit and direct:
            add(
                f"cache hits vs the direct upstream ({load}): p50 latency",
                f"{hit['lat_p50_us'] / 1000:.3f} vs {direct['lat_p50_us'] / 1000:.3f} ms, "
                f"{hit['rps']:.0f} vs {direct['rps']:.0f} req/s",
                None,
            )
    base = next((t for t in results if t.startswith("switchyard@")), None)
    for load in ("c=1", "c=16", "c=64", "stream c=16"):
        cpu_ratio(f"CPU µs/req vs {base} ({load})", "switchyard", base or "", load, None)
    return checks


def render(
    results: dict[str, Any],
    checks: list[dict[str, Any]],
    args: argparse.Namespace,
    env: dict[str, Any],
    stamp: str,
    elapsed: float,
    pairs: dict[str, Any] | None = None,
) -> str:
    names = {
        "direct": "direct (nginx)",
        BARE: "Switchyard, metrics and request logs off",
        "switchyard": "Switchyard",
        NATIVE: f"Switchyard, POST {NATIVE_PATH} (native door)",
        MESSAGES: "Switchyard, Anthropic door (/v1/messages)",
        RESPONSES: "Switchyard, OpenAI Responses door (/v1/responses)",
        "switchyard+keys-sqlite": "Switchyard + key + ledger (SQLite)",
        "switchyard+keys-pg": "Switchyard + key + ledger (PostgreSQL)",
        "switchyard+limits": "Switchyard + Redis limits + budget",
        TWO_WORKERS: "Switchyard + Redis limits + budget, --workers 2",
        "switchyard+cache-hit": "Switchyard, every answer a cache hit",
        "switchyard+events": "Switchyard + usage events (NATS)",
        "switchyard+tracing": "Switchyard + OpenTelemetry tracing (console exporter)",
        "litellm": "LiteLLM proxy",
    }
    names.update({t: f"Switchyard at {t.split('@', 1)[1]}" for t in results if "@" in t})
    out = [
        f"### Gateway overhead — run {stamp} (UTC)",
        "",
        f"Machine: {env['cpus']} x {env['cpu_model']}, {env['mem_gib']} GiB, kernel "
        f"{env['kernel']}; Python {env['python']}; {env['wrk']}; {env['nginx']}; "
        f"repo {env['git_rev']}. Pinning: {env['pinning']}. wrk: 1 thread, "
        f"{args.duration:g} s per run after a {args.warmup:g} s warm-up at c=16; "
        f"total {elapsed:.0f} s.",
        "",
        "| target | load | req/s | p50 ms | p99 ms | CPU µs/req | errors | other load |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t, r in results.items():
        if "skipped" in r or "failed" in r:
            why = r.get("skipped") or r.get("failed")
            out.append(
                f"| {names[t]} | {'skipped' if 'skipped' in r else 'FAILED'}: "
                f"{why[:100]} | | | | | | |"
            )
            continue
        for run in r["runs"]:
            flag = " ⚠ FLAGGED" if run["errors"] else ""
            out.append(
                f"| {names[t]} | {run['load']} | {rate_cells(run)} | {run['errors']}{flag} | "
                f"{other_load_cell(run)} |"
            )
    out += [
        "",
        "| target | start-up to first answer s | idle RSS MiB | peak RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for t, r in results.items():
        if "runs" not in r:
            continue
        out.append(
            f"| {names[t]} | {fmt(r['startup_s'], 2)} | {fmt(r['idle_rss_mib'], 1)} | "
            f"{fmt(r['peak_rss_mib'], 1)} |"
        )
    if pairs and "ratio" in pairs:
        out += render_pairs(pairs)
    out += [
        "",
        "| Switchyard target | measured | status |",
        "|---|---|---|",
        *[f"| {c['target']} | {c['measured']} | {c['status']} |" for c in checks],
        "",
        "CPU µs/req: the server's process tree (all processes and threads), utime+stime from "
        "/proc over the run, divided by the requests wrk completed; for `direct` it is nginx's "
        "own CPU. RSS: VmRSS (idle, 0.5 s after the first answer) and VmHWM (peak, after all "
        "runs), summed over the process tree. errors: non-2xx answers plus socket errors "
        "counted by wrk; any run with errors is flagged. other load: CPU used during the run "
        "by everything but the server, nginx and wrk, as a share of one core (a few per cent "
        "of kernel network work is normal); above "
        f"{NOISY_CORE_SHARE:.0%} the run is marked noisy: another job shared the machine, "
        "so its req/s and latencies are suspect (CPU µs/req less so, but it rises too).",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
