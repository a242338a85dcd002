"""What a shared (Redis) breaker store costs per request, against the in-memory one.

    .venv/bin/python bench/breaker_store.py [--requests 5000] [--url redis://127.0.0.1:6379/0]

Three measurements, each for the memory and the Redis store (a local Redis on 127.0.0.1):
- ``store``: ``allow`` + ``record_success`` on a closed breaker, one request at a time
  (the two round trips the attempt loop makes per request);
- ``store x16``: the same with 16 requests in flight (what a busy replica sees);
- ``gateway``: a whole ``Gateway.chat`` against the scripted ``fake`` provider, one at a time,
  so the difference between the two rows is the store's cost on the full request path.
Keys go under a prefix of their own and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

from switchyard import Gateway
from switchyard.resilience.breaker import BreakerStore, MemoryBreakers
from switchyard.resilience.redis_breakers import RedisBreakers
from switchyard.resilience.settings import BreakerSettings

SETTINGS = BreakerSettings()


async def per_request(work: Callable[[], Awaitable[object]], n: int, concurrency: int) -> float:
    """Microseconds per request (wall time / requests), best of three runs."""
    runs = []
    for _ in range(3):
        queue = iter(range(n))
        started = time.perf_counter()
        await asyncio.gather(*(_drain(queue, work) for _ in range(concurrency)))
        runs.append((time.perf_counter() - started) / n * 1e6)
    return min(runs)


async def _drain(queue: Iterator[int], work: Callable[[], Awaitable[object]]) -> None:
    for _ in queue:
        await work()


async def store_cost(store: BreakerStore, n: int, concurrency: int) -> float:
    async def one() -> None:
        if await store.allow("bench/model", SETTINGS):
            await store.record_success("bench/model", SETTINGS)

    return await per_request(one, n, concurrency)


async def gateway_cost(store: BreakerStore, n: int) -> float:
    config = {
        "providers": {"fake": {"type": "fake", "reply": "ok", "probe": {"enabled": False}}},
        "models": [{"name": "m", "deployments": [{"provider": "fake", "model": "f"}]}],
    }
    async with Gateway.from_config(config, breakers=store) as gateway:
        messages = [{"role": "user", "content": "hi"}]
        return await per_request(lambda: gateway.chat(model="m", messages=messages), n, 1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    prefix = f"switchyard-bench:{uuid.uuid4().hex}:breaker:"
    redis = RedisBreakers(args.url, prefix=prefix, timeout=2.0)
    memory = MemoryBreakers()
    rows = []
    try:
        for name, store in (("memory", memory), ("redis", redis)):
            await store_cost(store, 200, 1)  # warm up (scripts loaded, connections open)
            rows.append(
                (
                    name,
                    await store_cost(store, args.requests, 1),
                    await store_cost(store, args.requests, 16),
                    await gateway_cost(store, args.requests),
                )
            )
    finally:
        keys = [key async for key in redis.client.scan_iter(match=prefix + "*")]
        if keys:
            await redis.client.delete(*keys)
        await redis.aclose()
    print("| store | allow+record, µs/request | same, 16 in flight | Gateway.chat, µs/request |")
    print("|---|---|---|---|")
    for name, sequential, concurrent, full in rows:
        print(f"| {name} | {sequential:.1f} | {concurrent:.1f} | {full:.1f} |")
    overhead = rows[1][3] - rows[0][3]
    print(f"\nRedis store adds {overhead:.0f} µs per request on the full path (one at a time).")


if __name__ == "__main__":
    asyncio.run(main())
