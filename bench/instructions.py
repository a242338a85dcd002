"""Instructions per request, counted by callgrind: a before/after measure that noise cannot move.

    bash bench/setup.sh                                   # nginx, valgrind
    .venv/bin/python bench/instructions.py --baseline REF [--requests 200] [--log]
    .venv/bin/python bench/instructions.py --key [--requests 200]   # the cost of a virtual key
    .venv/bin/python bench/instructions.py --cache [--requests 200]
    .venv/bin/python bench/instructions.py --doors [--requests 200] [--log]
    .venv/bin/python bench/instructions.py --events [--requests 200]  # usage events to NATS
    .venv/bin/python bench/instructions.py --tracing [--requests 200] [--log]

The wall-clock CPU per request of ``bench/run.py`` moves by 10-30 % between runs on a shared
virtual machine; the number of instructions executed per request does not (the same count
twice within a fraction of a per cent). For each tree (this checkout's ``src`` and a checkout
of ``REF``) this script runs :func:`drive` under ``valgrind --tool=callgrind`` twice, with 0
and with N measured requests after the same warm-up, and reports (difference) / N: the
instructions one request costs, start-up and warm-up cancelled out. The driver calls the ASGI
app in-process (the guard, the OpenAI door, the Gateway, the openai adapter, aiohttp to the
bench nginx on 127.0.0.1:18081): uvicorn's HTTP parsing is left out, as it is the same for
both. ``--log`` serves with the per-request log line on, as ``switchyard serve`` does at
``info``. Not a test: it takes about a minute per tree and variant.

``--key`` measures authentication instead, on this checkout, plain requests: the bench config
as it is (master key, no storage), then with ``storage`` on (a fresh SQLite file; the usage
ledger writes every request, here all at shutdown so that no timer makes runs differ) and the
master key, then the same with a virtual key (created in the driver before the warm-up; its
cache TTL raised so the measured requests take the key cache's hit path, as all but one request
per key per ``key_cache_seconds`` do in service). The last two rows differ only in the
credential: their difference is what a virtual key costs per request.
``info``. ``--cache`` compares this checkout with itself instead: without a ``cache`` section
and with the in-memory response cache on, every request a new prompt (so every one is a cache
miss: a lookup, then a store), then every request the same prompt (all hits after the first).
``--doors`` compares the front doors on this checkout: the same request through the OpenAI door
(``/v1/chat/completions``) and through the Anthropic door (``/v1/messages``, with the
``max_tokens`` Anthropic requires), to the same upstream, plain and streamed.
Not a test: it takes about a minute per tree and variant.
``--events`` compares this checkout with itself: bench/switchyard.yaml, then bench/events.yaml
(every request publishes request_started and request_completed to the NATS on
127.0.0.1:4222); the publisher's tasks run in the same process, so their instructions count.

``--tracing`` compares this checkout with itself, OpenTelemetry tracing off and on
(``OTEL_SDK_DISABLED=false``, ``OTEL_TRACES_EXPORTER=console``: the SDK's batch processor, its
JSON rendering of every span, written to a pipe). The spans of the measured requests are
exported within the run (at shutdown at the latest), so their export is counted too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import Nginx  # noqa: E402
from inprocess import callgrind_instructions, post  # noqa: E402
from run import baseline_tree  # noqa: E402

# another config for the same driver (its aliases must be bench and bench-stream, with the
# same master key): bench/limits.yaml measures Redis limits and a budget on
CONFIG = Path(os.environ.get("SWITCHYARD_BENCH_CONFIG", BENCH_DIR / "switchyard.yaml"))
KEY = b"Bearer sk-bench-5b1c2f0e9d8a4c3b7e6f1a2d3c4b5a69"  # bench/switchyard.yaml's master key
WARM_UP = 50
AUTH_VARIANTS = {
    "master": "master key, no storage",
    "storage": "master key, storage (SQLite) on",
    "key": "virtual key, storage (SQLite) on",
}


DOORS = {"chat": b"/v1/chat/completions", "messages": b"/v1/messages"}


async def _one(app: Any, body: bytes, key: bytes = KEY, path: bytes = DOORS["chat"]) -> None:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", key),
        (b"content-length", str(len(body)).encode()),
    ]
    status = await post(app, path, body, headers)
    if status != 200:
        raise SystemExit(f"the gateway answered {status}")


def build_app(log: bool, auth: str = "master", cache: bool = False) -> tuple[Any, Any]:
    """The served app on the bench config, and its log handler when ``log``; with ``storage``
    on (a fresh SQLite file, one tenant) unless ``auth`` is ``master``; with ``cache``, the
    in-memory response cache on."""
    from switchyard.config.load import load_config
    from switchyard.gateway import Gateway
    from switchyard.server.app import create_app

    config: Any = CONFIG
    if auth != "master":
        import tempfile

        import yaml

        config = yaml.safe_load(CONFIG.read_text())
        database = Path(tempfile.mkdtemp(prefix="switchyard-bench-")) / "usage.db"
        # rows are written at shutdown only (no flush on a timer): the same work in every run
        config["storage"] = {"url": f"sqlite+aiosqlite:///{database}", "flush_seconds": 3600}
        config["tenants"] = [{"name": "bench"}]
        return create_app(Gateway.from_config(config)), None
    if cache:
        from switchyard.cache.settings import CacheSettings

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


async def drive(
    app: Any,
    handler: Any,
    requests: int,
    stream: bool,
    auth: str = "master",
    unique: bool = False,
    door: str = "chat",
) -> None:
    """WARM_UP requests, then ``requests`` more, through ``app`` (with a virtual key made
    first when ``auth`` is ``key``); ``unique``: each with a prompt of its own (same length);
    ``door``: ``chat`` (OpenAI's) or ``messages`` (Anthropic's)."""
    extra = b',"stream":true' if stream else b""
    if door == "messages":
        extra += b',"max_tokens":256'
    model = b"bench-stream" if stream else b"bench"
    async with app.router.lifespan_context(app):
        key = KEY
        if auth == "key":
            from switchyard.tenancy.settings import KeySpec

            gateway = app.state.gateway
            _, secret = await gateway.accounts.create_key(KeySpec(tenant="bench"))
            key = b"Bearer " + secret.encode()
            # one lookup in the warm-up, then the cache's hit path: a callgrind run is slower
            # than any key_cache_seconds, whose refreshes would make the count depend on time
            gateway.keyring.ttl = 3600.0
        for n in range(WARM_UP + requests):
            prompt = b"hi %06d" % n if unique else b"hi 000000"
            body = b'{"model":"%s","messages":[{"role":"user","content":"%s"}]%s}' % (
                model,
                prompt,
                extra,
            )
            await _one(app, body, key, DOORS[door])
    if handler is not None:
        handler.close()


TRACED = {"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "console"}


def count(
    src: Path,
    requests: int,
    stream: bool,
    log: bool,
    auth: str = "master",
    cache: str = "nocache",
    door: str = "chat",
    env: dict[str, str] | None = None,
) -> int:
    """Instructions of one run of the driver on ``src`` under callgrind (``cache``:
    ``nocache``, or ``miss`` for the memory cache with a new prompt every request)."""
    plain = "stream" if stream else "plain"
    args = [str(requests), plain, "log" if log else "nolog", auth, cache, door]
    return callgrind_instructions(
        [sys.executable, __file__, "--drive", *args],
        {**os.environ, "PYTHONPATH": str(src), **(env or {})},
    )


def per_request(
    src: Path,
    requests: int,
    stream: bool,
    log: bool,
    auth: str = "master",
    cache: str = "nocache",
    door: str = "chat",
    env: dict[str, str] | None = None,
) -> float:
    start = count(src, 0, stream, log, auth, cache, door, env)
    return (count(src, requests, stream, log, auth, cache, door, env) - start) / requests


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", metavar="REF", help="the git commit, tag or branch to compare")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--log", action="store_true", help="with the per-request log line on")
    ap.add_argument(
        "--key", action="store_true", help="measure a virtual key against the master key"
    )
    ap.add_argument(
        "--cache",
        action="store_true",
        help="this checkout without a cache and with the memory cache: all misses, all hits",
    )
    ap.add_argument(
        "--doors",
        action="store_true",
        help="this checkout: the OpenAI door against the Anthropic door, the same request",
    )
    ap.add_argument(
        "--events",
        action="store_true",
        help="this checkout without and with usage events (bench/events.yaml, NATS)",
    )
    ap.add_argument("--tracing", action="store_true", help="this checkout with tracing off and on")
    ap.add_argument("--drive", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        n, kind, log, auth, cache, door = args.drive
        app, handler = build_app(log == "log", auth, cache in ("miss", "hit"))
        unique = cache not in ("nocache-same", "hit")
        asyncio.run(drive(app, handler, int(n), kind == "stream", auth, unique, door))
        return 0
    if not 10 <= args.requests <= 2000:
        ap.error("--requests must be in [10, 2000]")
    if args.key:
        return authentication(args.requests)
    if args.cache:
        return cache_rows(BENCH_DIR.parent / "src", args.requests, args.log)
    if args.doors:
        return door_rows(BENCH_DIR.parent / "src", args.requests, args.log)
    if args.events:
        return events_rows(args.requests, args.log)
    if args.tracing:
        return tracing_rows(BENCH_DIR.parent / "src", args.requests, args.log)
    if not args.baseline:
        ap.error("--baseline REF (or --key, or --cache) is required")
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
                name: per_request(src, args.requests, stream, args.log, cache=cache)
                for name, src in trees.items()
            }
            base = counts[args.baseline]
            for name, value in counts.items():
                kind = "stream (13 chunks)" if stream else "plain"
                print(f"| {name} | {kind} | {value:,.0f} | {value / base:.3f} |")
    return 0


def events_rows(requests: int, log: bool) -> int:
    """This checkout without events, then with events to the local NATS (bench/events.yaml)."""
    src = BENCH_DIR.parent / "src"
    configs = {"no events": CONFIG, "events to NATS": BENCH_DIR / "events.yaml"}
    print("| config | request | instructions per request | ratio to no events |")
    print("|---|---|---:|---:|")
    with Nginx():
        for stream in (False, True):
            counts: dict[str, float] = {}
            for name, config in configs.items():
                os.environ["SWITCHYARD_BENCH_CONFIG"] = str(config)  # the driver's config
                counts[name] = per_request(src, requests, stream, log, cache="nocache-same")
            kind = "stream (13 chunks)" if stream else "plain"
            for name, value in counts.items():
                print(f"| {name} | {kind} | {value:,.0f} | {value / counts['no events']:.3f} |")
    return 0


def authentication(requests: int) -> int:
    """Plain requests on this checkout: master key without and with storage, virtual key."""
    src = BENCH_DIR.parent / "src"
    print("| credential | instructions per request | difference to the row above |")
    print("|---|---:|---:|")
    previous: float | None = None
    with Nginx():
        for auth, label in AUTH_VARIANTS.items():
            value = per_request(src, requests, False, False, auth)
            step = "" if previous is None else f"{value - previous:+,.0f}"
            print(f"| {label} | {value:,.0f} | {step} |")
            previous = value
    return 0


def door_rows(src: Path, requests: int, log: bool) -> int:
    print("| door | request | instructions per request | ratio to the OpenAI door |")
    print("|---|---|---:|---:|")
    with Nginx():
        for stream in (False, True):
            kind = "stream (13 chunks)" if stream else "plain"
            chat = per_request(src, requests, stream, log, cache="nocache-same")
            door = per_request(src, requests, stream, log, cache="nocache-same", door="messages")
            print(f"| /v1/chat/completions | {kind} | {chat:,.0f} | 1.000 |")
            print(f"| /v1/messages | {kind} | {door:,.0f} | {door / chat:.3f} |")
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
                off = per_request(src, requests, stream, log, cache=prompts)
                on = per_request(src, requests, stream, log, cache=cached)
                print(f"| off | {kind} | {off:,.0f} | 1.000 |")
                print(f"| memory, {label} | {kind} | {on:,.0f} | {on / off:.3f} |")
    return 0


def tracing_rows(src: Path, requests: int, log: bool) -> int:
    print("| tracing | request | instructions per request | ratio to off |")
    print("|---|---|---:|---:|")
    with Nginx():
        for stream in (False, True):
            kind = "stream (13 chunks)" if stream else "plain"
            off = per_request(src, requests, stream, log, cache="nocache-same")
            on = per_request(src, requests, stream, log, cache="nocache-same", env=TRACED)
            print(f"| off | {kind} | {off:,.0f} | 1.000 |")
            print(f"| on, console exporter | {kind} | {on:,.0f} | {on / off:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
