"""Micro-benchmarks of the gateway's hot-path building blocks.

Each variant is bench/frameworks/app.py (parse JSON -> POST to nginx -> parse -> serialize)
served by one ASGI server process pinned to its own core; wrk drives it at one concurrency
(16 by default) for a bounded time; the server's CPU time (whole process tree, from /proc) is
divided by the requests completed.

    /work/venv/bin/python bench/frameworks/run.py [--duration 10] [--connections 16]

Prints a Markdown table and writes bench/results/frameworks-<timestamp>.{md,json}.
About 6 variants x (start + 2 s warm-up + duration): ~1.5-2 minutes with the defaults.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import (
    BENCH_DIR,
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
    rate_cells,
    start_session,
    tree_hwm_mib,
    tree_rss_mib,
)

PY = sys.executable
APP_DIR = str(BENCH_DIR / "frameworks")
PORT = 18095

# name, server, framework, client, json
VARIANTS = [
    ("raw ASGI · uvicorn · aiohttp · orjson", "uvicorn", "raw", "aiohttp", "orjson"),
    ("Starlette · uvicorn · aiohttp · orjson", "uvicorn", "starlette", "aiohttp", "orjson"),
    ("FastAPI · uvicorn · aiohttp · orjson", "uvicorn", "fastapi", "aiohttp", "orjson"),
    ("raw ASGI · granian (asgi) · aiohttp · orjson", "granian", "raw", "aiohttp", "orjson"),
    ("raw ASGI · uvicorn · httpx · orjson", "uvicorn", "raw", "httpx", "orjson"),
    ("raw ASGI · uvicorn · aiohttp · json (stdlib)", "uvicorn", "raw", "aiohttp", "json"),
]


def server_cmd(kind: str) -> list[str]:
    if kind == "uvicorn":
        return [
            PY,
            "-m",
            "uvicorn",
            "--app-dir",
            APP_DIR,
            "app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            "1",
        ]
    if kind == "granian":
        granian = str(Path(PY).parent / "granian")
        return [
            granian,
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--workers",
            "1",
            "--runtime-threads",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "1",
            "--no-ws",
            "--log-level",
            "warning",
            "--working-dir",
            APP_DIR,
            "app:app",
        ]
    raise ValueError(kind)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--only", help="substring filter on variant names")
    add_noise_options(ap)
    args = ap.parse_args()
    check_noise_options(ap, args)
    if not (0 < args.duration <= 60 and 0 <= args.warmup <= 30 and 1 <= args.connections <= 256):
        ap.error("duration must be in (0, 60], warmup in [0, 30], connections in [1, 256]")

    stamp, env_info = start_session(args.wait_quiet)
    rows: list[dict[str, Any]] = []
    with Nginx() as nginx:
        log(f"direct nginx, c={args.connections}")
        direct = measure_quietest(
            nginx.pid,
            f"{UPSTREAM}/v1/chat/completions",
            args.connections,
            args.duration,
            args.noisy_retries,
        )
        rows.append({"name": "direct (wrk → nginx, no proxy)", **direct})
        for name, kind, fw, client, js in VARIANTS:
            if args.only and args.only.lower() not in name.lower():
                continue
            modules = [kind, "uvloop", "httptools", {"raw": "orjson"}.get(fw, fw), client, js]
            missing = [m for m in modules if importlib.util.find_spec(m) is None]
            if missing:
                log(f"{name}: skipped, not installed: {', '.join(missing)}")
                rows.append({"name": name, "failed": f"not installed: {', '.join(missing)}"})
                continue
            srv = Server(
                name=name,
                cmd=server_cmd(kind),
                port=PORT,
                env={"BENCH_FW": fw, "BENCH_CLIENT": client, "BENCH_JSON": js},
                startup_timeout=30,
                log_path=RESULTS_DIR / f"frameworks-{stamp}-{kind}-{fw}-{client}-{js}.log",
            )
            log(f"{name}: starting")
            try:
                startup = srv.start()
                idle = tree_rss_mib(srv.pid)
                if args.warmup:
                    measure(srv.pid, srv.url, args.connections, args.warmup)
                r = measure_quietest(
                    srv.pid, srv.url, args.connections, args.duration, args.noisy_retries
                )
                r.update(
                    name=name,
                    startup_s=startup,
                    idle_rss_mib=idle,
                    peak_rss_mib=tree_hwm_mib(srv.pid),
                )
                rows.append(r)
                log(
                    f"{name}: {r['rps']:.0f} req/s, {r['cpu_us_per_req']:.0f} µs CPU/req, "
                    f"errors {r['errors']}"
                )
            except Exception as e:  # record and go on with the next variant
                log(f"{name}: FAILED: {e}")
                rows.append({"name": name, "failed": str(e)})
            finally:
                srv.stop()

    md = render(rows, args, env_info)
    print(md)
    (RESULTS_DIR / f"frameworks-{stamp}.md").write_text(md)
    (RESULTS_DIR / f"frameworks-{stamp}.json").write_text(
        json.dumps({"environment": env_info, "args": vars(args), "rows": rows}, indent=2)
    )
    log(f"wrote bench/results/frameworks-{stamp}.md and .json")
    return 0 if all("failed" not in r and r.get("errors", 0) == 0 for r in rows) else 1


def render(rows: list[dict[str, Any]], args: argparse.Namespace, env: dict[str, Any]) -> str:
    out = [
        f"### Hot-path micro-benchmarks — c={args.connections}, {args.duration:g} s each",
        "",
        f"Machine: {env['cpus']} x {env['cpu_model']}, {env['mem_gib']} GiB; "
        f"Python {env['python']}; {env['pinning']}.",
        "",
        "| variant | req/s | p50 ms | p99 ms | CPU µs/req | idle RSS MiB | errors | other load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "failed" in r:
            out.append(f"| {r['name']} | FAILED: {r['failed'][:80]} | | | | | | |")
            continue
        flag = " ⚠" if r["errors"] else ""
        out.append(
            f"| {r['name']} | {rate_cells(r)} | {fmt(r.get('idle_rss_mib'), 1)} | "
            f"{r['errors']}{flag} | {other_load_cell(r)} |"
        )
    out.append("")
    out.append(
        "CPU µs/req is the server process tree's utime+stime over the run divided by "
        "requests completed (for the direct row: nginx's own CPU). other load: CPU used by "
        "everything but the server, nginx and wrk during the run, as a share of one core; "
        "a run marked noisy shared the machine with another job (req/s and latency suspect)."
    )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
