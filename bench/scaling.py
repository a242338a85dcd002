"""`serve --workers 2` against one worker, measured in interleaved pairs (issue 14).

Why pairs: on this 2-core VM the same server's CPU per request moves by up to ±20 % from one
10 s run to the next (the host's load, not ours), so one run of each, minutes apart, compares
two different machines. Here both servers run at once on their own ports (the idle one costs
nothing: its event loops sleep), and the load alternates between them, ``rounds`` times, the
order flipped each round so neither always goes first; the ratio is of the two medians, and the
per-round ratios are kept to show the spread.

Placement as in `run.py`: one worker pinned to CPU 1; the two workers on every CPU, so one
shares CPU 0 with wrk, nginx and Redis.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from harness import GATEWAY_CPUS, NCPU, Server, log, measure

ONE_PORT, TWO_PORT = 18093, 18094


def _server(name: str, binary: str, config: Path, port: int, workers: int, logs: Path) -> Server:
    more = ["--workers", str(workers)] if workers > 1 else []
    return Server(
        name,
        [binary, "serve", "--config", str(config), "--port", str(port), *more],
        port,
        startup_timeout=60,
        log_path=logs,
        cpus=f"0-{NCPU - 1}" if workers > 1 else GATEWAY_CPUS,
    )


def paired_scaling(
    binary: str,
    config: Path,
    logs_prefix: str,
    connections: int,
    duration_s: float,
    rounds: int,
    warmup_s: float = 3.0,
) -> dict[str, Any]:
    """req/s of one worker and of two, alternating ``rounds`` times at ``connections``."""
    one = _server("one worker", binary, config, ONE_PORT, 1, Path(f"{logs_prefix}-1w.log"))
    two = _server("two workers", binary, config, TWO_PORT, 2, Path(f"{logs_prefix}-2w.log"))
    runs: dict[str, list[dict[str, Any]]] = {"one": [], "two": []}
    try:
        for srv in (one, two):
            srv.start()
            if warmup_s:
                measure(srv.pid, srv.url, 16, warmup_s)
        for i in range(rounds):
            order = [("one", one), ("two", two)]
            for key, srv in order if i % 2 == 0 else order[::-1]:
                r = measure(srv.pid, srv.url, connections, duration_s)
                if r["errors"]:
                    raise RuntimeError(f"{srv.name}: {r['errors']} errors in round {i + 1}")
                runs[key].append(r)
                log(
                    f"workers pair {i + 1}/{rounds}, {srv.name}: {r['rps']:.0f} req/s, "
                    f"{r['cpu_us_per_req']:.0f} µs CPU/req"
                )
    finally:
        one.stop()
        two.stop()
    one_rps = [r["rps"] for r in runs["one"]]
    two_rps = [r["rps"] for r in runs["two"]]
    return {
        "connections": connections,
        "duration_s": duration_s,
        "one_rps": one_rps,
        "two_rps": two_rps,
        "one_cpu_us": [r["cpu_us_per_req"] for r in runs["one"]],
        "two_cpu_us": [r["cpu_us_per_req"] for r in runs["two"]],
        "round_ratios": [b / a for a, b in zip(one_rps, two_rps, strict=True) if a],
        "ratio": statistics.median(two_rps) / statistics.median(one_rps),
    }


def render_pairs(pairs: dict[str, Any]) -> list[str]:
    """Markdown lines: each round's req/s and CPU per request, and the medians."""
    out = [
        "",
        f"`--workers 2` against one worker, interleaved, c={pairs['connections']}, "
        f"{pairs['duration_s']:g} s per run:",
        "",
        "| round | one worker req/s | CPU µs/req | two workers req/s | CPU µs/req | ratio |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    rows = zip(
        pairs["one_rps"],
        pairs["one_cpu_us"],
        pairs["two_rps"],
        pairs["two_cpu_us"],
        pairs["round_ratios"],
        strict=True,
    )
    for i, (a, ca, b, cb, ratio) in enumerate(rows, 1):
        out.append(f"| {i} | {a:,.0f} | {ca:,.0f} | {b:,.0f} | {cb:,.0f} | {ratio:.2f} |")
    out.append(
        f"| median | {statistics.median(pairs['one_rps']):,.0f} | "
        f"{statistics.median(pairs['one_cpu_us']):,.0f} | "
        f"{statistics.median(pairs['two_rps']):,.0f} | "
        f"{statistics.median(pairs['two_cpu_us']):,.0f} | {pairs['ratio']:.2f} |"
    )
    return out
