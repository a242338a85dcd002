"""The pieces: calendar periods, OpenAI's duration format, the GCRA arithmetic in memory and in
Redis (the same answers from both), corrections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from switchyard.limits.limiter import Counters
from switchyard.limits.memory import MemoryCounters
from switchyard.limits.rules import BUDGET, GCRA, QUOTA, Correction, Rule, period
from switchyard.types.ratelimits import RateLimitStatus, duration

from .conftest import REDIS_URL


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_calendar_periods_are_utc_days_and_months() -> None:
    assert period("day", at("2026-12-31T23:59:00"))[:2] == ("2026-12-31", pytest.approx(60))
    assert period("day", at("2027-01-01T00:00:00"))[0] == "2027-01-01"  # the next one
    month, left, start = period("month", at("2026-12-31T23:59:30"))
    assert (month, left, start) == ("2026-12", pytest.approx(30), datetime(2026, 12, 1, tzinfo=UTC))
    assert period("month", at("2027-01-01T00:00:01"))[0] == "2027-01"
    assert period("month", at("2027-02-10T00:00:00"))[1] == pytest.approx(19 * 86400)
    assert period("total", at("2027-02-10T00:00:00"))[:2] == ("total", 0.0)


def test_openai_duration_format() -> None:
    assert duration(0.0171) == "18ms"
    assert duration(1.0) == "1s"
    assert duration(360) == "6m0s"
    assert duration(3723) == "1h2m3s"
    status = RateLimitStatus(60, 59, 1.0, None, None, None)
    assert status.headers() == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
    }


@pytest.fixture(params=["memory", "redis"])
def counters(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryCounters()
    from switchyard.limits.redis_store import RedisCounters

    return RedisCounters(REDIS_URL, prefix=request.getfixturevalue("redis_prefix"))


def rpm(key: str, limit: int, amount: int = 1) -> Rule:
    return Rule(GCRA, key, limit, amount, 60.0, "requests", key)


async def test_gcra_admits_a_burst_of_the_limit_then_one_per_interval(counters: Counters) -> None:
    verdicts = [await counters.acquire([rpm("a", 4)]) for _ in range(5)]
    assert [v.refused for v in verdicts] == [None, None, None, None, 0]
    assert [v.remaining[0] for v in verdicts[:4]] == [3, 2, 1, 0]
    assert verdicts[4].retry_after == pytest.approx(15.0, abs=0.5)  # 60 s / 4
    assert verdicts[3].reset[0] == pytest.approx(60.0, abs=0.5)  # whole again in a minute
    await counters.aclose()


async def test_all_or_nothing_across_rules(counters: Counters) -> None:
    both = [rpm("wide", 10), rpm("narrow", 1)]
    assert (await counters.acquire(both)).refused is None
    refused = await counters.acquire(both)
    assert refused.refused == 1
    # the refused admission charged nothing: "wide" still has 9
    assert (await counters.acquire([rpm("wide", 10)])).remaining == (8,)
    await counters.aclose()


async def test_quota_and_budget_counters_and_corrections(counters: Counters) -> None:
    quota = Rule(QUOTA, "q", 100, 60, 3600.0, "tokens", "q")
    assert (await counters.acquire([quota])).remaining == (40,)
    assert (await counters.acquire([quota])).refused == 0  # 120 > 100
    await counters.correct([Correction(QUOTA, "q", -50, 0.0)])  # the real usage was 10
    assert (await counters.acquire([quota])).remaining == (30,)

    budget = Rule(BUDGET, "b", 1000, 600, 0.0, "usd", "b")
    assert (await counters.acquire([budget])).seed == 0  # unknown: seed it first
    await counters.seed("b", 300, 0.0)
    await counters.seed("b", 999, 0.0)  # a second seed changes nothing
    assert (await counters.acquire([budget])).refused is None  # 300 < 1000: holds 600
    assert (await counters.acquire([budget])).refused is None  # 900 < 1000: overshoots once
    assert (await counters.acquire([budget])).refused == 0  # 1500: spent
    assert await counters.value("b") == 1500
    await counters.correct([Correction(BUDGET, "b", -600, 0.0)])  # one failed: released
    assert await counters.value("b") == 900

    tokens = Rule(GCRA, "t", 600, 600, 60.0, "tokens", "t")
    assert (await counters.acquire([tokens])).remaining == (0,)
    await counters.correct([Correction(GCRA, "t", -300, 0.1)])  # used 300 of the 600 charged
    again = await counters.acquire([Rule(GCRA, "t", 600, 300, 60.0, "tokens", "t")])
    assert again.refused is None and again.remaining[0] in (0, 1)
    await counters.aclose()
