"""The response cache in a real Redis: shared by replicas, per tenant, expiring on Redis's own
clock, cleared by alias or tenant; and Redis going away mid-test: requests keep being served
(fail open, counted), nothing hangs, and it recovers without a restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.errors import StorageUnavailable
from switchyard.providers.fake import FakeProvider
from switchyard.types import Principal
from tests.cache.conftest import REDIS_URL, PrivateRedis

HELLO: Any = [{"role": "user", "content": "hello shared cache"}]
PRICES = {"input": 1.0, "output": 2.0}


def config(url: str, prefix: str, **cache: Any) -> dict[str, Any]:
    return {
        "providers": {"f": {"type": "fake"}},
        "models": [
            {"name": "smart", "deployments": [{"provider": "f", "model": "m", "prices": PRICES}]},
            {"name": "fast", "deployments": [{"provider": "f", "model": "n", "prices": PRICES}]},
        ],
        "router": {"retries": 0},
        "cache": {"backend": "redis", "url": url, "prefix": prefix, **cache},
    }


def calls(gateway: Gateway) -> int:
    provider = gateway.providers["f"]
    assert isinstance(provider, FakeProvider)
    return provider.calls


async def test_replicas_share_answers_and_tenants_stay_apart(cache_prefix: str) -> None:
    cfg = config(REDIS_URL, cache_prefix)
    async with Gateway.from_config(cfg) as one, Gateway.from_config(cfg) as two:
        acme, globex = Principal("a", tenant="acme"), Principal("g", tenant="globex")
        first = await one.chat(model="smart", messages=HELLO, principal=acme)
        assert first.cache_status == "miss"
        stream = two.stream(model="smart", messages=HELLO, principal=acme)
        chunks = [c async for c in stream]
        assert stream.cache_status == "hit"
        assert "".join(c.text or "" for c in chunks) == first.text
        assert (await two.chat(model="smart", messages=HELLO, principal=globex)).cache_status == (
            "miss"
        )
        assert (await one.chat(model="smart", messages=HELLO)).cache_status == "miss"
        assert calls(one) + calls(two) == 3
        assert one.cache is not None and two.cache is not None
        everything = await one.cache.stats()
        assert (everything.stats.hits, everything.stats.misses) == (1, 3)
        assert everything.stats.entries == 3 and everything.stats.bytes > 0
        assert first.cost is not None
        assert everything.stats.saved_usd == pytest.approx(first.cost.total)
        theirs = await two.cache.stats("acme", every=False)
        assert (theirs.stats.hits, theirs.stats.misses, theirs.stats.entries) == (1, 1, 1)
        assert everything.backend == "redis"


async def test_entries_expire_on_redis_and_clear_by_alias_and_tenant(cache_prefix: str) -> None:
    async with Gateway.from_config(config(REDIS_URL, cache_prefix)) as gateway:
        cache = gateway.cache
        assert cache is not None
        for tenant in (None, "acme"):
            for model in ("smart", "fast"):
                principal = Principal("r", tenant=tenant)
                await gateway.chat(model=model, messages=HELLO, principal=principal)
        brief: Any = [{"role": "user", "content": "brief"}]
        await gateway.chat(model="smart", messages=brief, cache={"ttl": 0.3})
        assert (await gateway.chat(model="smart", messages=brief)).cache_status == "hit"
        await asyncio.sleep(0.5)
        assert (
            await gateway.chat(model="smart", messages=brief, cache={"no_store": True})
        ).cache_status == "miss"
        assert await cache.clear(alias="fast") == 2
        assert await cache.clear(tenant="acme", every=False) == 1
        assert (await gateway.chat(model="smart", messages=HELLO)).cache_status == "hit"
        acme = Principal("r", tenant="acme")
        answer = await gateway.chat(model="smart", messages=HELLO, principal=acme)
        assert answer.cache_status == "miss"
        assert await cache.clear() == 2
        assert (await cache.stats()).stats.entries == 0


async def test_redis_down_fails_open_and_recovers_without_a_restart(
    private_redis: PrivateRedis,
) -> None:
    cfg = config(private_redis.url, "switchyard:cache:", timeout_seconds=0.2)
    async with Gateway.from_config(cfg) as gateway:
        cache = gateway.cache
        assert cache is not None
        await gateway.chat(model="smart", messages=HELLO)
        assert (await gateway.chat(model="smart", messages=HELLO)).cache_status == "hit"

        private_redis.stop()
        for _ in range(3):
            started = time.monotonic()
            answer = await gateway.chat(model="smart", messages=HELLO)
            stream = gateway.stream(model="smart", messages=HELLO)
            text = "".join([c.text or "" async for c in stream])
            assert time.monotonic() - started < 1.0  # bounded: no hang on a dead Redis
            assert answer.cache_status == "miss" and stream.cache_status == "miss"
            assert answer.text == text == "hello shared cache"
        assert cache.store.errors >= 1
        with pytest.raises(StorageUnavailable):
            await cache.stats()

        private_redis.start()  # empty again: no persistence
        await asyncio.sleep(1.1)  # past the pause after the last failure
        assert (await gateway.chat(model="smart", messages=HELLO)).cache_status == "miss"
        assert (await gateway.chat(model="smart", messages=HELLO)).cache_status == "hit"
        assert (await cache.stats()).stats.entries == 1
