"""Instructions per request, counted by callgrind: a before/after measure that noise cannot move.

    bash bench/setup.sh                                   # nginx, valgrind
    .venv/bin/python bench/instructions.py --baseline REF [--requests 200] [--log]
    .venv/bin/python bench/instructions.py --cache [--requests 200]

The wall-clock CPU per request of ``bench/run.py`` moves by 10-30 % between runs on a shared
virtual machine; the number of instructions executed per request does not (the same count
twice within a fraction of a per cent). For each tree (this checkout's ``src`` and a checkout
of ``REF``) this script runs :func:`drive` under ``valgrind --tool=callgrind`` twice, with 0
and with N measured requests after the same warm-up, and reports (difference) / N: the
instructions one request costs, start-up and warm-up cancelled out. The driver calls the ASGI
app in-process (the guard, the OpenAI door, the Gateway, the openai adapter, aiohttp to the
bench nginx on 127.0.0.1:18081): uvicorn's HTTP parsing is left out, as it is the same for
both. ``--log`` serves with the per-request log line on, as ``switchyard serve`` does at
``info``. ``--cache`` compares this checkout with itself instead: without a ``cache`` section
and with the in-memory response cache on, every request a new prompt (so every one is a cache
miss: a lookup, then a store), then every request the same prompt (all hits after the first).
Not a test: it takes about a minute per tree and variant.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import Nginx  # noqa: E402
from run import baseline_tree  # noqa: E402

CONFIG = BENCH_DIR / "switchyard.yaml"
KEY = b"Bearer sk-bench-5b1c2f0e9d8a4c3b7e6f1a2d3c4b5a69"  # bench/switchyard.yaml's master key
WARM_UP = 50


async def _one(app: Any, body: bytes) -> None:
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    path = b"/v1/chat/completions"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 18090),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", KEY),
            (b"content-length", str(len(body)).encode()),
        ],
        "state": {},
    }
    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise SystemExit(f"the gateway answered {sent[0]['status']}")


def build_app(log: bool, cache: bool = False) -> tuple[Any, Any]:
    """The served app on the bench config, and its log handler when ``log``; with ``cache``,
    the in-memory response cache on."""
    from switchyard.gateway import Gateway
    from switchyard.server.app import create_app

    config: Any = CONFIG
    if cache:
        from switchyard.cache.settings import CacheSettings
        from switchyard.config.load import load_config

        config = load_config(CONFIG).model_copy(update={"cache": CacheSettings()})

    try:
        from switchyard.records.sinks import LogSink
        from switchyard.server.logs import configure_logging
    except ImportError:  # a tree from before request records had no log line to turn on
        log = False
    if not log:
        return create_app(Gateway.from_config(config)), None

    handler = configure_logging("info", open(os.devnull, "w"))
    return create_app(Gateway.from_config(config, sinks=[LogSink(lines=handler)])), handler


async def drive(app: Any, handler: Any, requests: int, stream: bool, unique: bool = False) -> None:
    """WARM_UP requests, then ``requests`` more, through ``app``; ``unique``: each with a
    prompt of its own (of the same length)."""
    extra = b',"stream":true' if stream else b""
    model = b"bench-stream" if stream else b"bench"
    async with app.router.lifespan_context(app):
        for n in range(WARM_UP + requests):
            prompt = b"hi %06d" % n if unique else b"hi 000000"
            body = b'{"model":"%s","messages":[{"role":"user","content":"%s"}]%s}' % (
                model,
                prompt,
                extra,
            )
            await _one(app, body)
    if handler is not None:
        handler.close()


def count(src: Path, requests: int, stream: bool, log: bool, cache: str = "nocache") -> int:
    """Instructions of one run of the driver on ``src`` under callgrind (``cache``:
    ``nocache``, or ``miss`` for the memory cache with a new prompt every request)."""
    args = [str(requests), "stream" if stream else "plain", "log" if log else "nolog", cache]
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--drive",
            *args,
        ],
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    found = re.findall(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind run failed:\n{done.stderr[-2000:]}")
    return int(found[-1])


def per_request(src: Path, requests: int, stream: bool, log: bool, cache: str = "nocache") -> float:
    start = count(src, 0, stream, log, cache)
    return (count(src, requests, stream, log, cache) - start) / requests


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", metavar="REF", help="the git commit, tag or branch to compare")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--log", action="store_true", help="with the per-request log line on")
    ap.add_argument(
        "--cache",
        action="store_true",
        help="this checkout without a cache and with the memory cache: all misses, all hits",
    )
    ap.add_argument("--drive", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        n, kind, log, cache = args.drive
        app, handler = build_app(log == "log", cache in ("miss", "hit"))
        unique = cache not in ("nocache-same", "hit")
        asyncio.run(drive(app, handler, int(n), kind == "stream", unique=unique))
        return 0
    if not 10 <= args.requests <= 2000:
        ap.error("--requests must be in [10, 2000]")
    if args.cache:
        return cache_rows(BENCH_DIR.parent / "src", args.requests, args.log)
    if not args.baseline:
        ap.error("--baseline REF (or --cache) is required")
    trees = {
        "this checkout": BENCH_DIR.parent / "src",
        args.baseline: baseline_tree(args.baseline) / "src",
    }
    # a baseline may predate the cache: both trees get the same single prompt, as before
    cache = "nocache-same"
    print("| tree | request | instructions per request | ratio to " + args.baseline + " |")
    print("|---|---|---:|---:|")
    with Nginx():
        for stream in (False, True):
            counts = {
                name: per_request(src, args.requests, stream, args.log, cache)
                for name, src in trees.items()
            }
            base = counts[args.baseline]
            for name, value in counts.items():
                kind = "stream (13 chunks)" if stream else "plain"
                print(f"| {name} | {kind} | {value:,.0f} | {value / base:.3f} |")
    return 0


def cache_rows(src: Path, requests: int, log: bool) -> int:
    print("| response cache | request | instructions per request | ratio to no cache |")
    print("|---|---|---:|---:|")
    with Nginx():
        for stream in (False, True):
            kind = "stream (13 chunks)" if stream else "plain"
            for prompts, cached, label in (
                ("nocache", "miss", "every request a miss"),
                ("nocache-same", "hit", "every request a hit"),
            ):
                off = per_request(src, requests, stream, log, prompts)
                on = per_request(src, requests, stream, log, cached)
                print(f"| off | {kind} | {off:,.0f} | 1.000 |")
                print(f"| memory, {label} | {kind} | {on:,.0f} | {on / off:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
