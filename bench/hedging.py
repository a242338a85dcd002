"""Hedged requests against a heavy-tailed deployment: p50/p99 with hedging off and on.

    .venv/bin/python bench/hedging.py            # ~18 s with the defaults

In-process, through the library (no server, no network): a `Gateway` with two `fake`
deployments. The primary's latency is heavy-tailed: `--slow-rate` of its calls (5 %) take
`--slow` seconds (1 s), the others `--fast` (20 ms). The secondary is either steady (20 ms,
scenario "primary tail") or has the same tail (scenario "both tails", independent draws). Each
run sends `--requests` chat completions (`--concurrency` at a time) to an alias without
`hedge` and to one with `hedge: {delay: --delay, max_extra: 1}`, and reports latency
percentiles as the caller sees them, plus the extra upstream calls hedging cost. Streams are
measured by time to first chunk. A `delay: p90` row shows the adaptive delay once the health
board has measurements (a warm-up of 200 requests feeds it).

This is a measurement, not a test: nothing is asserted; numbers vary a little between runs
(the fake's draws are seeded, the event loop's timing is not).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

from switchyard import Gateway

PROMPT = [{"role": "user", "content": "hi"}]


@dataclass
class Run:
    scenario: str
    mode: str
    kind: str
    latencies: list[float]
    attempts: int
    hedged: int

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def config(args: argparse.Namespace, *, tail_on_secondary: bool) -> dict[str, Any]:
    tail = {
        "latency": args.fast,
        "slow_rate": args.slow_rate,
        "slow_latency": args.slow,
        "reply": "ok",
    }
    secondary = {**tail, "seed": 2} if tail_on_secondary else {"latency": args.fast, "reply": "ok"}
    deployments = [
        {"provider": "primary", "model": "m1"},
        {"provider": "secondary", "model": "m2"},
    ]
    return {
        "providers": {
            "primary": {"type": "fake", **tail, "seed": 1},
            "secondary": {"type": "fake", **secondary},
        },
        "models": [
            {"name": "plain", "deployments": deployments},
            {
                "name": "hedged",
                "hedge": {"delay": args.delay, "max_extra": 1},
                "deployments": deployments,
            },
            {
                "name": "adaptive",
                "hedge": {"delay": "p90", "max_extra": 1, "min_delay": 0.01},
                "deployments": deployments,
            },
        ],
        "router": {"retries": 0},
    }


async def one(gateway: Gateway, alias: str, stream: bool) -> tuple[float, int, bool]:
    started = time.perf_counter()
    if stream:
        chat = gateway.stream(model=alias, messages=PROMPT)
        await chat.start()  # the first chunk has arrived
        elapsed = time.perf_counter() - started
        async for _ in chat:
            pass
        served = chat.served_by
    else:
        response = await gateway.chat(model=alias, messages=PROMPT)
        elapsed = time.perf_counter() - started
        served = response.served_by
    assert served is not None
    return elapsed, served.attempts, served.hedged


async def drive(
    gateway: Gateway, alias: str, n: int, concurrency: int, stream: bool
) -> tuple[list[float], int, int]:
    """``n`` requests, ``concurrency`` at a time; bounded by a wall-clock guard."""
    latencies: list[float] = []
    attempts = hedged = 0
    queue = iter(range(n))

    async def worker() -> None:
        nonlocal attempts, hedged
        for _ in queue:
            elapsed, tried, was_hedged = await one(gateway, alias, stream)
            latencies.append(elapsed)
            attempts += tried
            hedged += was_hedged

    async with asyncio.timeout(120):
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, attempts, hedged


async def scenario(args: argparse.Namespace, name: str, tail_on_secondary: bool) -> list[Run]:
    runs: list[Run] = []
    async with Gateway.from_config(config(args, tail_on_secondary=tail_on_secondary)) as gateway:
        kinds = [("chat", False)] + ([("stream ttft", True)] if not args.no_stream else [])
        for kind, stream in kinds:
            for mode, alias in (("off", "plain"), (f"delay {args.delay:g} s", "hedged")):
                lat, attempts, hedged = await drive(
                    gateway, alias, args.requests, args.concurrency, stream
                )
                runs.append(Run(name, mode, kind, lat, attempts, hedged))
        if not args.no_adaptive:
            await drive(gateway, "plain", 200, args.concurrency, False)  # feed the health board
            lat, attempts, hedged = await drive(
                gateway, "adaptive", args.requests, args.concurrency, False
            )
            runs.append(Run(name, "delay p90", "chat", lat, attempts, hedged))
    return runs


def render(runs: list[Run], args: argparse.Namespace, elapsed: float) -> str:
    out = [
        f"Primary: {args.fast * 1000:g} ms, {args.slow_rate:.0%} of calls {args.slow:g} s; "
        f"{args.requests} requests per row, {args.concurrency} concurrent; total {elapsed:.1f} s.",
        "",
        "| scenario | measured | hedging | p50 ms | p90 ms | p99 ms | max ms "
        "| extra upstream calls | answered by a hedge |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        n = len(r.latencies)
        out.append(
            f"| {r.scenario} | {r.kind} | {r.mode} | {r.percentile(0.5) * 1000:.1f} | "
            f"{r.percentile(0.9) * 1000:.1f} | {r.percentile(0.99) * 1000:.1f} | "
            f"{max(r.latencies) * 1000:.1f} | {(r.attempts - n) / n:.1%} | {r.hedged / n:.1%} |"
        )
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description="hedged requests: p50/p99 with hedging off vs on")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--fast", type=float, default=0.02, help="seconds, most calls")
    ap.add_argument("--slow", type=float, default=1.0, help="seconds, the tail")
    ap.add_argument("--slow-rate", type=float, default=0.05)
    ap.add_argument("--delay", type=float, default=0.1, help="hedge delay, seconds")
    ap.add_argument("--no-stream", action="store_true")
    ap.add_argument("--no-adaptive", action="store_true")
    args = ap.parse_args()
    if not (1 <= args.requests <= 5000 and 1 <= args.concurrency <= 200 and args.slow <= 5):
        ap.error("requests in [1, 5000], concurrency in [1, 200], slow <= 5 s")
    started = time.perf_counter()

    async def everything() -> list[Run]:
        runs = await scenario(args, "primary tail", tail_on_secondary=False)
        runs += await scenario(args, "both tails", tail_on_secondary=True)
        return runs

    runs = asyncio.run(everything())
    print(render(runs, args, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
