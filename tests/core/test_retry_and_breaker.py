"""Backoff arithmetic and breaker transitions, with an injected clock (no sleeping)."""

import random

from switchyard.resilience.breaker import CircuitBreaker, MemoryBreakers
from switchyard.resilience.retry import RetryPolicy
from switchyard.resilience.settings import BreakerSettings


class FakeRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.value


def test_backoff_ceiling_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(initial=0.5, maximum=4.0, multiplier=2.0)
    assert [policy.ceiling(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_full_jitter_spans_zero_to_the_ceiling() -> None:
    assert RetryPolicy(initial=1, multiplier=2, rng=FakeRandom(0.0)).delay(2) == 0.0
    assert RetryPolicy(initial=1, multiplier=2, rng=FakeRandom(1.0)).delay(2) == 4.0
    assert RetryPolicy(initial=1, multiplier=2, rng=FakeRandom(0.25)).delay(1) == 0.5


def test_jitter_is_random_within_bounds() -> None:
    policy = RetryPolicy(initial=0.5, maximum=8, rng=random.Random(7))
    delays = [policy.delay(3) for _ in range(200)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 150


def test_retry_after_is_a_floor_even_above_the_maximum() -> None:
    policy = RetryPolicy(initial=0.5, maximum=2.0, rng=FakeRandom(1.0))
    assert policy.delay(0, retry_after=10.0) == 10.0
    assert policy.delay(5, retry_after=0.1) == 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=3, recovery_timeout=30), Clock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # resets the count
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()


def test_breaker_half_opens_after_recovery_and_admits_one_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=1, recovery_timeout=30), clock)
    breaker.record_failure()
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()
    assert breaker.state == "half_open"
    assert not breaker.allow()  # only one trial at a time
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_failed_trial_reopens_for_another_recovery_timeout() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=5, recovery_timeout=10), clock)
    for _ in range(5):
        breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 9
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()


def test_released_trial_lets_another_trial_in() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=1, recovery_timeout=1), clock)
    breaker.record_failure()
    clock.now += 1
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


async def test_memory_store_keeps_one_breaker_per_key() -> None:
    store = MemoryBreakers(Clock())
    settings = BreakerSettings(failure_threshold=1, recovery_timeout=5)
    await store.record_failure("p/m", settings)
    assert not await store.allow("p/m", settings)
    assert await store.allow("p/other", settings)
    [view] = await store.views(["p/m"])
    assert view.state == "open" and view.retry_in_seconds == 5
    assert await store.reset("p/m")
    assert await store.allow("p/m", settings)


def test_error_rate_over_the_window_opens_the_breaker() -> None:
    clock = Clock()
    settings = BreakerSettings(
        failure_threshold=100, error_rate_threshold=0.5, window_seconds=10, min_requests=4
    )
    breaker = CircuitBreaker(settings, clock)
    for ok in (True, False, True):
        breaker.record_success() if ok else breaker.record_failure()
    assert breaker.state == "closed"  # fewer than min_requests so far
    breaker.record_failure()  # 2 of 4 failed: 50 %
    assert breaker.state == "open"


def test_old_outcomes_leave_the_error_rate_window() -> None:
    clock = Clock()
    settings = BreakerSettings(
        failure_threshold=100, error_rate_threshold=0.5, window_seconds=10, min_requests=2
    )
    breaker = CircuitBreaker(settings, clock)
    breaker.record_failure()
    clock.now += 11  # that failure is now outside the window
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "open"  # 1 of 2 in the window
    clock.now += 100
    assert breaker.error_rate() is None
