"""The cache key (what changes the answer, and nothing else) and the in-memory store's bounds."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.cache.keys import CacheKey, cache_key
from switchyard.cache.memory import MemoryStore
from switchyard.types import ChatRequest

BASE: dict[str, Any] = {"model": "smart", "messages": [{"role": "user", "content": "hi"}]}


def key(tenant: str | None = None, **fields: Any) -> CacheKey:
    return cache_key(ChatRequest.model_validate({**BASE, **fields}), tenant)


@pytest.mark.parametrize(
    "fields",
    [
        {"user": "alice"},
        {"metadata": {"team": "a"}},
        {"stream": True, "include_usage": True},
        {"extra": {"stream_options": {"x": 1}}},
        {"timeout": 5.0, "prefer": "f", "fallbacks": ["other"]},
        {"cache": {"ttl": 5, "no_store": True}},
    ],
)
def test_what_does_not_change_the_answer_is_not_in_the_key(fields: dict[str, Any]) -> None:
    assert key(**fields) == key()


@pytest.mark.parametrize(
    "fields",
    [
        {"model": "other"},
        {"messages": [{"role": "user", "content": "hi!"}]},
        {"temperature": 0.5},
        {"top_p": 0.9},
        {"max_tokens": 10},
        {"stop": ["x"]},
        {"seed": 1},
        {"n": 1},
        {"tools": [{"name": "f"}]},
        {"tool_choice": "required"},
        {"response_format": {"type": "json_object"}},
        {"extra": {"logit_bias": {"1": 2}}},
    ],
)
def test_what_changes_the_answer_changes_the_key(fields: dict[str, Any]) -> None:
    assert key(**fields) != key()


def test_tenants_have_their_own_namespace() -> None:
    assert key("acme") != key("globex") != key(None)
    assert key("acme").digest == key(None).digest  # same request, different namespace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_entries_expire_on_the_clock() -> None:
    clock = Clock()
    store = MemoryStore(max_entries=10, max_bytes=10_000, clock=clock)
    await store.put(key(), b"answer", 0.5, ttl=60)
    clock.now += 59.9
    assert await store.fetch(key()) == b"answer"
    clock.now += 0.2
    assert await store.fetch(key()) is None
    stats = await store.stats(None, every=True)
    assert (stats.hits, stats.misses, stats.entries, stats.saved_usd) == (1, 1, 0, 0.5)


async def test_the_least_recently_used_entry_goes_first_when_entries_run_out() -> None:
    store = MemoryStore(max_entries=2, max_bytes=10_000)
    a, b, c = key(seed=1), key(seed=2), key(seed=3)
    await store.put(a, b"a", None, ttl=60)
    await store.put(b, b"b", None, ttl=60)
    assert await store.fetch(a) == b"a"  # a is now the most recently used
    await store.put(c, b"c", None, ttl=60)
    assert len(store) == 2
    assert await store.fetch(b) is None
    assert await store.fetch(a) == b"a" and await store.fetch(c) == b"c"


async def test_bytes_are_bounded_too() -> None:
    store = MemoryStore(max_entries=1000, max_bytes=2000)
    keys = [key(seed=i) for i in range(10)]
    for k in keys:
        await store.put(k, b"x" * 500, None, ttl=60)
        assert store.bytes <= 2000
    assert len(store) == 3  # 3 x (500 + alias + digest) fit in 2000 bytes, 4 do not
    assert [await store.fetch(k) is not None for k in keys] == [False] * 7 + [True] * 3
    await store.put(key(seed=99), b"y" * 5000, None, ttl=60)  # larger than everything
    assert await store.fetch(key(seed=99)) is None and len(store) == 3


async def test_clear_by_alias_and_by_tenant() -> None:
    store = MemoryStore(max_entries=100, max_bytes=100_000)
    for tenant in (None, "acme", "globex"):
        for model in ("smart", "fast"):
            await store.put(key(tenant, model=model), b"x", None, ttl=60)
    assert await store.clear(alias="fast", tenant=None, every=True) == 3
    assert await store.clear(alias=None, tenant="acme", every=False) == 1
    assert {(k.tenant, k.alias) for k in store._entries} == {(None, "smart"), ("globex", "smart")}
    assert (await store.stats("globex", every=False)).entries == 1
    assert await store.clear(alias=None, tenant=None, every=True) == 2
    assert len(store) == 0 and store.bytes == 0


def test_the_embedded_defaults_cache_in_memory() -> None:
    from switchyard.config.load import load_config

    cache = load_config(None, env={}).cache
    assert cache is not None and (cache.backend, cache.ttl_seconds) == ("memory", 3600)
