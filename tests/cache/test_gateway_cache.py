"""The cache stages of the Gateway, in memory: hits and misses, plain and streamed answers
served either way, tenants kept apart, TTLs, the request's controls, and only complete
successful answers stored."""

from __future__ import annotations

import time
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.errors import ConfigError, ProviderUnavailable
from switchyard.providers.fake import FakeFailure, FakeProvider
from switchyard.records.record import RequestRecord
from switchyard.types import ChatChunk, Principal

HELLO: Any = [{"role": "user", "content": "hello there cache"}]
PRICES = {"input": 1.0, "output": 2.0}


def config(**cache: Any) -> dict[str, Any]:
    return {
        "providers": {"f": {"type": "fake"}},
        "models": [
            {"name": "smart", "deployments": [{"provider": "f", "model": "m", "prices": PRICES}]},
            {
                "name": "short",
                "cache": {"ttl_seconds": 5},
                "deployments": [{"provider": "f", "model": "m"}],
            },
            {
                "name": "fresh",
                "cache": {"enabled": False},
                "deployments": [{"provider": "f", "model": "m"}],
            },
        ],
        "router": {"retries": 0},
        "cache": cache,
    }


class Clock:
    """time.monotonic(), moved forward by hand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


class Records:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


def fake(gateway: Gateway) -> FakeProvider:
    provider = gateway.providers["f"]
    assert isinstance(provider, FakeProvider)
    return provider


async def test_a_repeated_request_is_a_hit_that_costs_nothing_and_records_the_saving() -> None:
    sink = Records()
    async with Gateway(Gateway.from_config(config()).config, sinks=[sink]) as gateway:
        first = await gateway.chat(model="smart", messages=HELLO)
        second = await gateway.chat(model="smart", messages=HELLO, user="someone-else")
        assert fake(gateway).calls == 1
    assert (first.cache_status, second.cache_status) == ("miss", "hit")
    assert second.text == first.text and second.usage == first.usage
    assert first.cost is not None and first.cost.total > 0
    assert second.cost is not None and second.cost.total == 0
    assert second.served_by is not None and second.served_by.attempts == 0
    assert (second.provider, second.served_by.model) == ("f", "m")
    missed, hit = sink.records
    assert not missed.cache_hit and missed.cost_saved is None
    assert hit.cache_hit and hit.cost is not None and hit.cost.total == 0
    assert hit.cost_saved is not None and hit.cost_saved.total == first.cost.total
    assert (hit.provider, hit.model, hit.usage, hit.attempts) == ("f", "m", None, [])
    assert 0 < hit.latency_ms < missed.latency_ms + 50


async def collect(gateway: Gateway, **fields: Any) -> tuple[str | None, list[ChatChunk]]:
    stream = gateway.stream(model="smart", messages=HELLO, **fields)
    chunks = [chunk async for chunk in stream]
    return stream.cache_status, chunks


def shape(chunks: list[ChatChunk]) -> list[tuple[Any, ...]]:
    return [(c.role, c.text, c.finish_reason, c.usage) for c in chunks]


async def test_a_stream_is_stored_as_its_chunks_and_replayed_as_the_same_stream() -> None:
    async with Gateway.from_config(config()) as gateway:
        status1, first = await collect(gateway)
        status2, second = await collect(gateway)
        assert fake(gateway).calls == 1
    assert (status1, status2) == ("miss", "hit")
    assert len(first) > 2 and shape(second) == shape(first)
    assert len({c.id for c in second}) == 1 and second[0].id != first[0].id
    assert second[-1].cost is not None and second[-1].cost.total == 0


async def test_a_plain_request_is_served_from_a_streamed_entry_and_the_reverse() -> None:
    async with Gateway.from_config(config()) as gateway:
        _, streamed = await collect(gateway)
        plain = await gateway.chat(model="smart", messages=HELLO)
        assert plain.cache_status == "hit"
        assert plain.text == "".join(c.text or "" for c in streamed)
        assert plain.usage == streamed[-1].usage
        assert plain.choices[0].finish_reason == "stop"

        other: Any = [{"role": "user", "content": "plain first"}]
        answer = await gateway.chat(model="smart", messages=other)
        stream = gateway.stream(model="smart", messages=other)
        chunks = [c async for c in stream]
        assert stream.cache_status == "hit" and fake(gateway).calls == 2
    assert "".join(c.text or "" for c in chunks) == answer.text
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage == answer.usage
    assert stream.usage == answer.usage


async def test_one_tenants_entry_is_never_served_to_another() -> None:
    async with Gateway.from_config(config()) as gateway:
        acme, globex = Principal("r1", tenant="acme"), Principal("r2", tenant="globex")
        assert (await gateway.chat(model="smart", messages=HELLO, principal=acme)).cache_status
        for principal in (globex, Principal("r3"), Principal.anonymous_admin()):
            answer = await gateway.chat(model="smart", messages=HELLO, principal=principal)
            assert answer.cache_status in ("miss", "hit")
        again = await gateway.chat(model="smart", messages=HELLO, principal=acme)
        assert again.cache_status == "hit"
        assert fake(gateway).calls == 3  # acme, globex, the admin namespace (then its hit)
        assert gateway.cache is not None
        acme_stats = await gateway.cache.stats("acme", every=False)
        assert (acme_stats.stats.hits, acme_stats.stats.misses) == (1, 1)


async def test_ttls_global_per_alias_and_per_request() -> None:
    clock = Clock()
    cfg = Gateway.from_config(config(ttl_seconds=100)).config
    async with Gateway(cfg, clock=clock) as gateway:

        async def status(model: str, **fields: Any) -> str | None:
            return (await gateway.chat(model=model, messages=HELLO, **fields)).cache_status

        assert await status("smart") == "miss"  # kept 100 s (global)
        assert await status("short") == "miss"  # kept 5 s (the alias's)
        other: Any = [{"role": "user", "content": "kept two seconds"}]
        await gateway.chat(model="smart", messages=other, cache={"ttl": 2})
        clock.offset = 3
        assert await status("smart") == "hit"
        assert await status("short") == "hit"
        assert (await gateway.chat(model="smart", messages=other)).cache_status == "miss"
        clock.offset = 6
        assert await status("smart") == "hit"
        assert await status("short") == "miss"
        clock.offset = 101
        assert await status("smart") == "miss"


async def test_an_alias_with_the_cache_off_and_n_above_one_are_skipped() -> None:
    async with Gateway.from_config(config()) as gateway:
        for _ in range(2):
            assert (await gateway.chat(model="fresh", messages=HELLO)).cache_status == "skip"
            stream = gateway.stream(model="fresh", messages=HELLO)
            async for _chunk in stream:
                pass
            assert stream.cache_status == "skip"
        assert fake(gateway).calls == 4
        assert gateway.cache is not None
        stats = await gateway.cache.stats()
        assert (stats.stats.hits, stats.stats.misses, stats.stats.entries) == (0, 0, 0)


async def test_no_cache_refreshes_and_no_store_keeps_out() -> None:
    async with Gateway.from_config(config()) as gateway:

        async def status(**control: Any) -> str | None:
            answer = await gateway.chat(model="smart", messages=HELLO, cache=control)
            return answer.cache_status

        assert await status(no_store=True) == "miss"
        assert await status(no_store=True) == "miss"  # nothing was stored
        assert await status(no_cache=True) == "skip"  # not looked up, but stored
        assert await status() == "hit"
        assert await status(no_cache=True, no_store=True) == "skip"
        assert fake(gateway).calls == 4


async def test_failed_answers_are_not_stored() -> None:
    async with Gateway.from_config(config()) as gateway:
        fake(gateway).script(FakeFailure(status=500))
        with pytest.raises(ProviderUnavailable):
            await gateway.chat(model="smart", messages=HELLO)
        assert (await gateway.chat(model="smart", messages=HELLO)).cache_status == "miss"


async def test_a_cut_or_abandoned_stream_is_not_stored() -> None:
    async with Gateway.from_config(config()) as gateway:
        fake(gateway).script(FakeFailure(mode="cut_stream", after_chunks=1))
        stream = gateway.stream(model="smart", messages=HELLO)
        with pytest.raises(ProviderUnavailable):
            async for _chunk in stream:
                pass
        stream = gateway.stream(model="smart", messages=HELLO)
        async for _chunk in stream:  # the caller goes away after the first chunk
            break
        await stream.aclose()
        assert gateway.cache is not None
        assert (await gateway.cache.stats()).stats.entries == 0
        status, _ = await collect(gateway)
        assert status == "miss"
        status, _ = await collect(gateway)
        assert status == "hit"


async def test_a_hit_abandoned_by_its_caller_is_recorded_as_cancelled() -> None:
    sink = Records()
    async with Gateway(Gateway.from_config(config()).config, sinks=[sink]) as gateway:
        await gateway.chat(model="smart", messages=HELLO)
        stream = gateway.stream(model="smart", messages=HELLO)
        await stream.start()
        assert stream.cache_status == "hit" and stream.served_by is not None
        await stream.aclose()
    hit = sink.records[-1]
    assert hit.cache_hit and hit.status == "cancelled" and hit.kind == "stream"


async def test_without_a_cache_section_nothing_is_cached() -> None:
    cfg = config()
    del cfg["cache"]
    with pytest.raises(ConfigError) as caught:  # an alias's cache: needs the backend
        Gateway.from_config(cfg)
    assert caught.value.problems == [("models[1].cache", "needs a cache section (the backend)")]
    for alias in cfg["models"]:
        alias.pop("cache", None)
    async with Gateway.from_config(cfg) as gateway:
        for _ in range(2):
            assert (await gateway.chat(model="smart", messages=HELLO)).cache_status is None
        assert fake(gateway).calls == 2 and gateway.cache is None
