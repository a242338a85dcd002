"""The shared breaker store: the same transitions as the in-memory one, and replicas agree.

Every transition test runs against both stores, driven by an injected clock (no sleeping). The
Redis tests use the real server on 127.0.0.1 under a key prefix of their own (see conftest).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from tests.fakes.gateway import fake_provider
from tests.resilience.conftest import REDIS_URL, connect_or_skip, delete_prefix, new_prefix

from switchyard import Gateway
from switchyard.providers.fake import FakeFailure
from switchyard.resilience.breaker import BreakerStore, MemoryBreakers
from switchyard.resilience.redis_breakers import BreakerStoreUnavailable, RedisBreakers
from switchyard.resilience.settings import BreakerSettings

HELLO = [{"role": "user", "content": "hello"}]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


StoreFactory = Callable[[Clock], BreakerStore]


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Builds stores of one kind; Redis ones share this test's prefix (like replicas)."""
    made: list[BreakerStore] = []
    client = await connect_or_skip() if request.param == "redis" else None
    prefix = new_prefix()

    def build(clock: Clock) -> BreakerStore:
        store: BreakerStore = (
            MemoryBreakers(clock)
            if client is None
            else RedisBreakers(REDIS_URL, prefix=prefix, clock=clock)
        )
        made.append(store)
        return store

    yield build
    for store in made:
        await store.aclose()
    if client is not None:
        await delete_prefix(client, prefix)
        await client.aclose()


async def state(store: BreakerStore, key: str = "p/m") -> str:
    [view] = await store.views([key])
    return view.state


# -- transitions, both stores ------------------------------------------------------------------


async def test_opens_after_consecutive_failures_only(make_store: StoreFactory) -> None:
    store = make_store(Clock())
    settings = BreakerSettings(failure_threshold=3, recovery_timeout=30)
    await store.record_failure("p/m", settings)
    await store.record_failure("p/m", settings)
    await store.record_success("p/m", settings)  # resets the count
    await store.record_failure("p/m", settings)
    await store.record_failure("p/m", settings)
    assert await state(store) == "closed" and await store.allow("p/m", settings)
    [view] = await store.views(["p/m"])
    assert view.consecutive_failures == 2
    await store.record_failure("p/m", settings)
    assert await state(store) == "open"
    assert not await store.allow("p/m", settings)
    assert await store.allow("p/other", settings)  # one breaker per deployment


async def test_half_opens_after_recovery_and_admits_one_trial(make_store: StoreFactory) -> None:
    clock = Clock()
    store = make_store(clock)
    settings = BreakerSettings(failure_threshold=1, recovery_timeout=30)
    await store.record_failure("p/m", settings)
    clock.now += 29.9
    assert not await store.allow("p/m", settings)
    clock.now += 0.2
    assert await store.allow("p/m", settings)
    assert await state(store) == "half_open"
    assert not await store.allow("p/m", settings)  # only one trial at a time
    await store.record_success("p/m", settings)
    assert await state(store) == "closed"
    assert await store.allow("p/m", settings) and await store.allow("p/m", settings)


async def test_failed_trial_reopens_for_another_recovery_timeout(
    make_store: StoreFactory,
) -> None:
    clock = Clock()
    store = make_store(clock)
    settings = BreakerSettings(failure_threshold=5, recovery_timeout=10)
    for _ in range(5):
        await store.record_failure("p/m", settings)
    clock.now += 10
    assert await store.allow("p/m", settings)
    await store.record_failure("p/m", settings)
    assert await state(store) == "open"
    clock.now += 9
    assert not await store.allow("p/m", settings)
    clock.now += 1
    assert await store.allow("p/m", settings)


async def test_released_trial_lets_another_trial_in(make_store: StoreFactory) -> None:
    clock = Clock()
    store = make_store(clock)
    settings = BreakerSettings(failure_threshold=1, recovery_timeout=1)
    await store.record_failure("p/m", settings)
    clock.now += 1
    assert await store.allow("p/m", settings)
    await store.release("p/m", settings)
    assert await store.allow("p/m", settings)
    assert not await store.allow("p/m", settings)


async def test_error_rate_over_the_window_opens_the_breaker(make_store: StoreFactory) -> None:
    store = make_store(Clock())
    settings = BreakerSettings(
        failure_threshold=100, error_rate_threshold=0.5, window_seconds=10, min_requests=4
    )
    for ok in (True, False, True):
        if ok:
            await store.record_success("p/m", settings)
        else:
            await store.record_failure("p/m", settings)
    assert await state(store) == "closed"  # fewer than min_requests so far
    [view] = await store.views(["p/m"])
    assert view.error_rate == pytest.approx(1 / 3)
    await store.record_failure("p/m", settings)  # 2 of 4 failed: 50 %
    assert await state(store) == "open"


async def test_old_outcomes_leave_the_error_rate_window(make_store: StoreFactory) -> None:
    clock = Clock()
    store = make_store(clock)
    settings = BreakerSettings(
        failure_threshold=100, error_rate_threshold=0.5, window_seconds=10, min_requests=2
    )
    await store.record_failure("p/m", settings)
    clock.now += 11  # that failure is now outside the window
    await store.record_success("p/m", settings)
    await store.record_failure("p/m", settings)
    assert await state(store) == "open"  # 1 of 2 in the window
    clock.now += 100
    [view] = await store.views(["p/m"])
    assert view.error_rate is None


async def test_views_and_reset(make_store: StoreFactory) -> None:
    clock = Clock()
    store = make_store(clock)
    settings = BreakerSettings(failure_threshold=1, recovery_timeout=5)
    assert not await store.reset("p/m")  # nothing to forget yet
    [untouched] = await store.views(["p/m"])
    assert (untouched.state, untouched.consecutive_failures) == ("closed", 0)
    await store.record_failure("p/m", settings)
    clock.now += 2
    [view] = await store.views(["p/m"])
    assert view.state == "open" and view.consecutive_failures == 1
    assert view.opened_seconds_ago == pytest.approx(2)
    assert view.retry_in_seconds == pytest.approx(3)
    assert await store.reset("p/m")
    assert await state(store) == "closed"
    assert await store.allow("p/m", settings)


# -- Redis: replicas agree ---------------------------------------------------------------------


async def test_concurrent_replicas_admit_exactly_one_trial(breaker_prefix: str) -> None:
    clock = Clock()
    replicas = [RedisBreakers(REDIS_URL, prefix=breaker_prefix, clock=clock) for _ in range(4)]
    settings = BreakerSettings(failure_threshold=2, recovery_timeout=5)
    try:
        await replicas[0].record_failure("p/m", settings)
        await replicas[1].record_failure("p/m", settings)  # counts add up across replicas
        assert not any(
            await asyncio.gather(*(r.allow("p/m", settings) for r in replicas for _ in range(5)))
        )
        clock.now += 5
        verdicts = await asyncio.gather(
            *(r.allow("p/m", settings) for r in replicas for _ in range(25))
        )
        assert sum(verdicts) == 1
        # a replica that does not hold the trial cannot release it
        holder = next(i for i, ok in enumerate(verdicts) if ok) // 25
        other = replicas[(holder + 1) % len(replicas)]
        await other.release("p/m", settings)
        assert not await other.allow("p/m", settings)
        await replicas[holder].record_success("p/m", settings)
        assert all(await asyncio.gather(*(r.allow("p/m", settings) for r in replicas)))
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_a_lost_trial_is_freed_after_its_lease(breaker_prefix: str) -> None:
    clock = Clock()
    crashed = RedisBreakers(REDIS_URL, prefix=breaker_prefix, clock=clock, trial_lease=60)
    survivor = RedisBreakers(REDIS_URL, prefix=breaker_prefix, clock=clock, trial_lease=60)
    settings = BreakerSettings(failure_threshold=1, recovery_timeout=5)
    try:
        await survivor.record_failure("p/m", settings)
        clock.now += 5
        assert await crashed.allow("p/m", settings)  # ... and never reports back
        clock.now += 59
        assert not await survivor.allow("p/m", settings)
        clock.now += 1
        assert await survivor.allow("p/m", settings)
    finally:
        await crashed.aclose()
        await survivor.aclose()


async def test_keys_are_namespaced_hash_tagged_and_expire(
    breaker_prefix: str, redis_client: Redis
) -> None:
    store = RedisBreakers(REDIS_URL, prefix=breaker_prefix, clock=Clock())
    settings = BreakerSettings(failure_threshold=3, error_rate_threshold=0.5)
    try:
        await store.record_failure("openai/gpt-4.1", settings)
        found = [key async for key in redis_client.scan_iter(match=breaker_prefix + "*")]
        keys = sorted(key.decode() for key in found)
        base = f"{breaker_prefix}{{openai/gpt-4.1}}"
        assert keys == [base, base + ":fail"]
        for key in keys:
            assert 0 < await redis_client.ttl(key) <= 3600
    finally:
        await store.aclose()


async def test_server_time_by_default(breaker_prefix: str) -> None:
    store = RedisBreakers(REDIS_URL, prefix=breaker_prefix)  # no clock: Redis TIME
    settings = BreakerSettings(failure_threshold=1, recovery_timeout=30)
    try:
        await store.record_failure("p/m", settings)
        assert not await store.allow("p/m", settings)
        [view] = await store.views(["p/m"])
        assert view.state == "open"
        assert view.opened_seconds_ago is not None and 0 <= view.opened_seconds_ago < 5
        assert view.retry_in_seconds is not None and 25 < view.retry_in_seconds <= 30
    finally:
        await store.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_redis_fails_open_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://user:s3cret@127.0.0.1:{_closed_port()}/0"
    store = RedisBreakers(url, reconnect_interval=0.0)
    settings = BreakerSettings(failure_threshold=1)
    caplog.set_level(logging.WARNING, logger="switchyard.resilience.redis_breakers")
    try:
        for _ in range(3):
            await store.record_failure("p/m", settings)
            assert await store.allow("p/m", settings)  # admitted: no shared state to consult
            await store.record_success("p/m", settings)
            await store.release("p/m", settings)
        with pytest.raises(BreakerStoreUnavailable):
            await store.views(["p/m"])
        with pytest.raises(BreakerStoreUnavailable):
            await store.reset("p/m")
    finally:
        await store.aclose()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()
    assert "s3cret" not in caplog.text and "user" not in caplog.text


async def test_after_a_failure_redis_is_not_asked_again_for_a_while() -> None:
    store = RedisBreakers(f"redis://127.0.0.1:{_closed_port()}/0", reconnect_interval=60)
    calls = 0
    original = store._allow

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(*args, **kwargs)

    store._allow = counting  # type: ignore[assignment]
    try:
        settings = BreakerSettings()
        assert all([await store.allow("p/m", settings) for _ in range(5)])
        assert calls == 1
    finally:
        await store.aclose()


async def test_config_builds_the_redis_store_and_the_gateway_closes_it(
    breaker_prefix: str,
) -> None:
    config = {
        "providers": {"a": {"type": "fake"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
        "router": {
            "retries": 0,
            "circuit_breaker": {"failure_threshold": 1},
            "breaker_store": {"backend": "redis", "url": REDIS_URL, "prefix": breaker_prefix},
        },
    }
    closed: list[bool] = []
    async with Gateway.from_config(config) as gateway:
        store = gateway.breakers
        assert isinstance(store, RedisBreakers)
        fake_provider(gateway, "a").script(FakeFailure(status=500))
        with pytest.raises(Exception, match="500"):
            await gateway.chat(model="smart", messages=HELLO)
        [view] = await store.views(["a/m"])
        assert view.state == "open"
        close = store.aclose

        async def spy() -> None:
            closed.append(True)
            await close()

        store.aclose = spy  # type: ignore[method-assign]
    assert closed == [True]


# -- two gateways sharing Redis ----------------------------------------------------------------


async def test_two_gateways_agree_on_breaker_state(breaker_prefix: str) -> None:
    clock = Clock()
    config = {
        "providers": {
            "a": {"type": "fake", "reply": "from a", "latency": 0.05},
            "b": {"type": "fake", "reply": "from b"},
        },
        "models": [
            {
                "name": "smart",
                "strategy": "fallback",
                "deployments": [
                    {"provider": "a", "model": "a-model"},
                    {"provider": "b", "model": "b-model"},
                ],
            }
        ],
        "router": {
            "retries": 0,
            "circuit_breaker": {"failure_threshold": 3, "recovery_timeout": 30},
        },
    }
    stores = [RedisBreakers(REDIS_URL, prefix=breaker_prefix, clock=clock) for _ in range(2)]
    one, two = (Gateway.from_config(config, clock=clock, breakers=store) for store in stores)
    try:
        # gateway one opens a's breaker through failures (each request fails over to b)
        fake_provider(one, "a").script(*[FakeFailure(status=503)] * 3)
        for _ in range(3):
            assert (await one.chat(model="smart", messages=HELLO)).text == "from b"
        assert fake_provider(one, "a").calls == 3

        # gateway two never saw a fail, yet routes around it
        for _ in range(3):
            response = await two.chat(model="smart", messages=HELLO)
            assert response.text == "from b"
            assert response.served_by is not None and response.served_by.attempts == 1
        assert fake_provider(two, "a").calls == 0

        # after recovery_timeout, one trial across both gateways; the others go to b
        clock.now += 30
        calls_before = fake_provider(one, "a").calls + fake_provider(two, "a").calls
        answers = await asyncio.gather(
            *(gw.chat(model="smart", messages=HELLO) for gw in (one, two) for _ in range(6))
        )
        trials = fake_provider(one, "a").calls + fake_provider(two, "a").calls - calls_before
        assert trials == 1
        assert sorted(r.text for r in answers) == ["from a"] + ["from b"] * 11

        # the trial succeeded: both gateways use a again
        for gw in (one, two):
            assert (await gw.chat(model="smart", messages=HELLO)).text == "from a"
    finally:
        for store in stores:
            await store.aclose()


def test_breaker_store_config_defaults_to_memory_and_names_bad_keys() -> None:
    from switchyard.config.load import load_config
    from switchyard.errors import ConfigError
    from switchyard.resilience.breaker import MemoryBreakers as Memory

    config = load_config({})
    assert config.router.breaker_store.backend == "memory"
    assert isinstance(Gateway(config).breakers, Memory)
    with pytest.raises(ConfigError, match=r"router\.breaker_store\.backend"):
        load_config({"router": {"breaker_store": {"backend": "etcd"}}})
