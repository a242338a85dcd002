"""CPU per request of the native and Responses doors against the OpenAI door, in-process, in
one run.

    .venv/bin/python bench/door_cpu.py [--requests 500] [--rounds 6]
    .venv/bin/python bench/door_cpu.py --instructions [--requests 200]   # callgrind, ~4 min

The ASGI app is called directly (the guard, the door, the Gateway, the scripted ``fake``
provider: no network, no uvicorn), in interleaved blocks of ``--requests`` per door and round,
so whatever else the machine is doing falls on every door alike. Each door gets the same body
(``{"model": "bench", "messages": [...]}``; the OpenAI stream adds ``"stream": true``; the
Responses door gets ``{"model": "bench", "input": "hi"}``, its answers stored as by default).
Prints CPU µs per request (``time.process_time``) and the native/OpenAI and Responses/OpenAI
ratios, plain and streamed (the issue's bound for the Responses door: 1.2).
A complement to ``bench/run.py``'s ``switchyard+native`` rows, whose wall-clock CPU moves by
10-30 % between runs on a shared machine. ``--instructions`` counts instructions instead
(``valgrind --tool=callgrind``, as ``bench/instructions.py`` does): each door alone, with 0 and
with N requests after the same warm-up; (difference) / N is what one request costs, which
repeats to a fraction of a per cent whatever the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from inprocess import callgrind_instructions, post

from switchyard import Gateway
from switchyard.server.app import create_app

KEY = b"Bearer sk-door-cpu"
HEADERS = [(b"authorization", KEY), (b"content-type", b"application/json")]
CONFIG = {
    "server": {"master_key": KEY.decode().removeprefix("Bearer ")},
    "providers": {"fake": {"type": "fake", "reply": "hello there from the fake upstream"}},
    "models": [{"name": "bench", "deployments": [{"provider": "fake", "model": "gpt-4o-mini"}]}],
}
BODY = b'{"model":"bench","messages":[{"role":"user","content":"hi"}]}'
STREAM_BODY = b'{"model":"bench","messages":[{"role":"user","content":"hi"}],"stream":true}'
RESPONSES_BODY = b'{"model":"bench","input":"hi"}'
RESPONSES_STREAM_BODY = b'{"model":"bench","input":"hi","stream":true}'
DOORS = {
    "openai": (b"/v1/chat/completions", BODY),
    "native": (b"/api/v1/complete", BODY),
    "responses": (b"/v1/responses", RESPONSES_BODY),
    "openai stream": (b"/v1/chat/completions", STREAM_BODY),
    "native stream": (b"/api/v1/complete/stream", BODY),
    "responses stream": (b"/v1/responses", RESPONSES_STREAM_BODY),
}


async def request(app: Any, path: bytes, body: bytes) -> int:
    """One request through the ASGI app; its status."""
    return await post(app, path, body, HEADERS)


async def measure(requests: int, rounds: int) -> dict[str, float]:
    gateway = Gateway.from_config(CONFIG)
    app = create_app(gateway)
    await gateway.start()
    try:
        for name, (path, body) in DOORS.items():  # warm-up, and every door must answer 200
            for _ in range(100):
                status = await request(app, path, body)
                if status != 200:
                    raise SystemExit(f"{name}: {path.decode()} answered {status}")
        spent = dict.fromkeys(DOORS, 0.0)
        for _ in range(rounds):
            for name, (path, body) in DOORS.items():
                started = time.process_time()
                for _ in range(requests):
                    await request(app, path, body)
                spent[name] += time.process_time() - started
    finally:
        await gateway.aclose()
    return {name: seconds / (requests * rounds) * 1e6 for name, seconds in spent.items()}


async def drive(door: str, requests: int) -> None:
    """The warm-up, then ``requests`` requests, through one door (run under callgrind)."""
    gateway = Gateway.from_config(CONFIG)
    app = create_app(gateway)
    path, body = DOORS[door]
    await gateway.start()
    try:
        for _ in range(100 + requests):
            await request(app, path, body)
    finally:
        await gateway.aclose()


def instructions(door: str, requests: int) -> float:
    """Instructions one request through ``door`` costs."""
    counts = [
        callgrind_instructions([sys.executable, __file__, "--drive", door, str(n)])
        for n in (0, requests)
    ]
    return (counts[1] - counts[0]) / requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=None, help="per door (and round)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--instructions", action="store_true", help="count them with callgrind")
    ap.add_argument("--drive", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        asyncio.run(drive(args.drive[0], int(args.drive[1])))
        return
    if args.instructions:
        requests = args.requests or 200
        counted = {door: instructions(door, requests) for door in DOORS}
        print("| door | instructions per request |\n|---|---:|")
        for door, count in counted.items():
            print(f"| {door} | {count:,.0f} |")
        print_ratios(counted)
        return
    cpu = asyncio.run(measure(args.requests or 500, args.rounds))
    print("| door | CPU µs/req |\n|---|---:|")
    for name, us in cpu.items():
        print(f"| {name} | {us:.1f} |")
    print_ratios(cpu)


def print_ratios(cost: dict[str, float]) -> None:
    print()
    for door in ("native", "responses"):
        print(f"{door} / openai: plain {cost[door] / cost['openai']:.3f}, "
              f"stream {cost[door + ' stream'] / cost['openai stream']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
