"""The usage summary on real SQLite and PostgreSQL: rows written by the real ledger, added up,
and every number checked against one worked out by hand (percentiles and exact costs too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchyard import Gateway
from switchyard.errors import InvalidRequest, NotConfigured, NotFound, StorageUnavailable
from switchyard.records.record import RequestRecord
from switchyard.storage.settings import StorageSettings
from switchyard.types import Prices, Principal, Usage
from switchyard.usage.ledger import UsageLedger
from switchyard.usage.report import UsageStats, percentile, summary_json
from switchyard.usage.summary import summarize

# USD per million tokens; cached input tokens at their own price
PRICES = Prices(input=1.5, output=2.25, cached_input=0.5)


def hand_cost(tokens_in: int, cached: int, tokens_out: int) -> Decimal:
    paid = (tokens_in - cached) * Decimal("1.5") + cached * Decimal("0.5")
    return (paid + tokens_out * Decimal("2.25")) / 10**6


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# (tenant, key, user, alias, provider, model, usage (in, cached, out, reasoning) or None,
#  priced, latency ms, status, cache hit, when (UTC))
ROWS: list[tuple[Any, ...]] = [
    ("acme", "k1", "ann", "smart", "f", "m", (1000, 400, 200, 50), True, 10.0, "success", False,
     "2026-11-30T10:05:00"),
    ("acme", "k1", "ann", "smart", "f", "m", (2000, 0, 100, 0), True, 20.0, "success", True,
     "2026-11-30T10:40:00"),
    ("acme", "k2", None, "cheap", "g", "n", (500, 0, 50, 0), False, 30.0, "success", False,
     "2026-11-30T11:10:00"),
    ("acme", "k2", None, "smart", None, None, None, True, 40.0, "error", False,
     "2026-12-01T09:00:00"),
    ("beta", "k3", "bob", "smart", "f", "m", (3000, 1000, 300, 100), True, 50.0, "success",
     False, "2026-12-01T09:30:00"),
    (None, None, None, "smart", "f", "m", (100, 0, 10, 0), True, 60.0, "cancelled", False,
     "2026-12-01T23:59:59"),
]  # fmt: skip

C1 = hand_cost(1000, 400, 200)  # (600 x 1.5 + 400 x 0.5 + 200 x 2.25) / 1e6 = 0.00155
C2 = hand_cost(2000, 0, 100)  # 0.003225
C5 = hand_cost(3000, 1000, 300)  # 0.004175
C6 = hand_cost(100, 0, 10)  # 0.0001725


def test_the_hand_costs_are_what_they_say() -> None:
    assert (C1, C2, C5, C6) == tuple(
        Decimal(x) for x in ("0.00155", "0.003225", "0.004175", "0.0001725")
    )


def record(row: tuple[Any, ...], n: int) -> RequestRecord:
    tenant, key, user, alias, provider, model, used, priced, latency, status, hit, when = row
    rec = RequestRecord(
        principal=Principal(f"r{n}", tenant=tenant, key_id=key, user=user, admin=tenant is None),
        kind="chat",
        alias=alias,
        started_at=at(when),
        started=0.0,
    )
    rec.provider, rec.model, rec.priced = provider, model, priced
    if used is not None:
        tokens_in, cached, tokens_out, reasoning = used
        rec.usage = Usage(
            input_tokens=tokens_in,
            cached_input_tokens=cached,
            output_tokens=tokens_out,
            reasoning_tokens=reasoning,
        )
        rec.cost = PRICES.cost(rec.usage) if priced else None
    rec.latency_ms, rec.status, rec.cache_hit = latency, status, hit
    if status != "success":
        rec.error_type = "provider_unavailable" if status == "error" else "cancelled"
        rec.http_status = 503 if status == "error" else 499
    return rec


async def write_rows(url: str) -> None:
    """Through the real ledger, as the gateway writes them."""
    ledger = UsageLedger(StorageSettings(url=url, flush_seconds=0.01))
    await ledger.start()
    for n, row in enumerate(ROWS):
        ledger.emit(record(row, n))
    await ledger.aclose()
    assert ledger.written == len(ROWS)


@pytest.fixture
async def engine(storage_url: str) -> AsyncIterator[AsyncEngine]:
    await write_rows(storage_url)
    engine = create_async_engine(storage_url)
    yield engine
    await engine.dispose()


def stats(
    requests: int,
    tokens: tuple[int, int, int, int],
    cost: Decimal | None,
    *,
    unpriced: int = 0,
    errors: int = 0,
    cache_hits: int = 0,
    p50: float,
    p95: float,
) -> UsageStats:
    tokens_in, tokens_out, cached, reasoning = tokens
    return UsageStats(
        requests=requests,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cached_tokens=cached,
        reasoning_tokens=reasoning,
        cost_usd=cost,
        unpriced=unpriced,
        errors=errors,
        cache_hits=cache_hits,
        latency_p50_ms=p50,
        latency_p95_ms=p95,
    )


def same(actual: UsageStats, expected: UsageStats) -> None:
    """Equal, the latency percentiles to the last bits of a float (they interpolate)."""
    assert actual.latency_p50_ms == pytest.approx(expected.latency_p50_ms, rel=1e-12)
    assert actual.latency_p95_ms == pytest.approx(expected.latency_p95_ms, rel=1e-12)
    actual_rest = {**_fields(actual), "latency_p50_ms": 0, "latency_p95_ms": 0}
    expected_rest = {**_fields(expected), "latency_p50_ms": 0, "latency_p95_ms": 0}
    assert actual_rest == expected_rest


def _fields(stats: UsageStats) -> dict[str, Any]:
    return {name: getattr(stats, name) for name in UsageStats.__slots__}


# every row: latencies 10..60 -> p50 at position 2.5: 35; p95 at position 4.75: 57.5
TOTALS = stats(
    6,
    (6600, 660, 1400, 150),
    C1 + C2 + 0 + C5 + C6,
    unpriced=1,
    errors=2,
    cache_hits=1,
    p50=35.0,
    p95=57.5,
)


async def test_totals_over_everything(engine: AsyncEngine) -> None:
    summary = await summarize(engine)
    assert summary.groups == [] and not summary.truncated
    same(summary.totals, TOTALS)
    assert summary.totals.cost_usd == Decimal("0.0091225")


async def test_by_tenant(engine: AsyncEngine) -> None:
    summary = await summarize(engine, "tenant")
    assert [g.keys for g in summary.groups] == [
        {"tenant": None},  # the admin's own request: null keys come first
        {"tenant": "acme"},
        {"tenant": "beta"},
    ]
    admin, acme, beta = (g.stats for g in summary.groups)
    same(admin, stats(1, (100, 10, 0, 0), C6, errors=1, p50=60.0, p95=60.0))
    # acme's latencies 10, 20, 30, 40: p50 at 1.5 -> 25; p95 at 2.85 -> 30 + 0.85 x 10 = 38.5
    same(
        acme,
        stats(
            4,
            (3500, 350, 400, 50),
            C1 + C2,  # the unpriced row adds nothing and is counted; the error cost 0
            unpriced=1,
            errors=1,
            cache_hits=1,
            p50=25.0,
            p95=38.5,
        ),
    )
    same(beta, stats(1, (3000, 300, 1000, 100), C5, p50=50.0, p95=50.0))
    same(summary.totals, TOTALS)


async def test_by_tenant_and_model_and_key(engine: AsyncEngine) -> None:
    summary = await summarize(engine, ["tenant", "model"])
    assert [tuple(g.keys.values()) for g in summary.groups] == [
        (None, "m"),
        ("acme", None),  # the failed request: no model answered
        ("acme", "m"),
        ("acme", "n"),
        ("beta", "m"),
    ]
    acme_m = summary.groups[2].stats
    same(acme_m, stats(2, (3000, 300, 400, 50), C1 + C2, cache_hits=1, p50=15.0, p95=19.5))
    unpriced = summary.groups[3].stats
    assert unpriced.cost_usd is None and unpriced.unpriced == 1  # not a fake 0
    failed = summary.groups[1].stats
    assert failed.cost_usd == 0 and failed.errors == 1
    by_key = await summarize(engine, "key,user")
    assert [tuple(g.keys.values()) for g in by_key.groups] == [
        (None, None),
        ("k1", "ann"),
        ("k2", None),
        ("k3", "bob"),
    ]
    assert [g.stats.requests for g in by_key.groups] == [1, 2, 2, 1]


async def test_hour_and_day_buckets_in_utc(engine: AsyncEngine) -> None:
    by_day = await summarize(engine, "day")
    assert [g.keys["day"] for g in by_day.groups] == ["2026-11-30", "2026-12-01"]
    first, second = (g.stats for g in by_day.groups)
    same(first, stats(3, (3500, 350, 400, 50), C1 + C2, unpriced=1, cache_hits=1, p50=20.0,
                      p95=29.0))  # fmt: skip
    same(second, stats(3, (3100, 310, 1000, 100), C5 + C6, errors=2, p50=50.0, p95=59.0))
    by_hour = await summarize(engine, "hour,alias")
    assert [tuple(g.keys.values()) for g in by_hour.groups] == [
        ("2026-11-30T10:00:00Z", "smart"),
        ("2026-11-30T11:00:00Z", "cheap"),
        ("2026-12-01T09:00:00Z", "smart"),
        ("2026-12-01T23:00:00Z", "smart"),
    ]
    assert [g.stats.requests for g in by_hour.groups] == [2, 1, 2, 1]


async def test_since_is_inclusive_until_exclusive(engine: AsyncEngine) -> None:
    december = await summarize(engine, since="2026-12-01")
    assert december.totals.requests == 3 and december.totals.cost_usd == C5 + C6
    # the same instant, written with an offset
    assert (await summarize(engine, since="2026-12-01T01:00:00+01:00")).totals.requests == 3
    window = await summarize(engine, "provider", "2026-11-30T10:40:00Z", "2026-12-01T09:30:00")
    assert window.totals.requests == 3  # rows 2, 3 and 4; row 5 is at the end, excluded
    assert [(g.keys["provider"], g.stats.requests) for g in window.groups] == [
        (None, 1),
        ("f", 1),
        ("g", 1),
    ]
    assert window.totals.cost_usd == C2
    same(window.totals, stats(3, (2500, 150, 0, 0), C2, unpriced=1, errors=1, cache_hits=1,
                              p50=30.0, p95=39.0))  # fmt: skip
    nothing = await summarize(engine, "tenant", since=datetime(2027, 1, 1, tzinfo=UTC))
    assert nothing.groups == [] and nothing.totals.requests == 0
    assert nothing.totals.cost_usd is None and nothing.totals.latency_p50_ms is None


async def test_one_tenant_only(engine: AsyncEngine) -> None:
    beta = await summarize(engine, "tenant,user", tenant="beta")
    assert [g.keys for g in beta.groups] == [{"tenant": "beta", "user": "bob"}]
    assert beta.totals.cost_usd == C5 and beta.totals.requests == 1


async def test_the_group_cap_truncates_groups_not_totals(engine: AsyncEngine) -> None:
    summary = await summarize(engine, "tenant", max_groups=2)
    assert summary.truncated
    assert [g.keys["tenant"] for g in summary.groups] == [None, "acme"]
    same(summary.groups[1].stats, (await summarize(engine, "tenant")).groups[1].stats)
    same(summary.totals, TOTALS)
    body = summary_json(summary)
    assert body["truncated"] is True and len(body["groups"]) == 2


async def test_the_json_answer(engine: AsyncEngine) -> None:
    body = summary_json(await summarize(engine, "tenant", since="2026-11-30"))
    assert body["group_by"] == ["tenant"]
    assert body["since"] == "2026-11-30T00:00:00Z" and body["until"] is None
    acme = body["groups"][1]
    assert acme == {
        "tenant": "acme",
        "requests": 4,
        "input_tokens": 3500,
        "output_tokens": 350,
        "cached_tokens": 400,
        "reasoning_tokens": 50,
        "cost_usd": "0.004775",  # a decimal string, exact
        "unpriced_requests": 1,
        "errors": 1,
        "cache_hits": 1,
        "latency_ms": {"p50": pytest.approx(25.0), "p95": pytest.approx(38.5)},
    }
    assert body["totals"]["cost_usd"] == "0.0091225"


@pytest.mark.parametrize(
    ("arguments", "param"),
    [
        ({"group_by": "tenant,colour"}, "group_by"),
        ({"group_by": ["week"]}, "group_by"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
    ],
)
async def test_bad_parameters_are_named(
    sqlite_url: str, arguments: dict[str, Any], param: str
) -> None:
    engine = create_async_engine(sqlite_url)
    try:
        with pytest.raises(InvalidRequest) as refused:
            await summarize(engine, **arguments)
    finally:
        await engine.dispose()
    assert refused.value.param == param and refused.value.status_code == 400


async def test_a_database_without_the_table_is_storage_unavailable(sqlite_url: str) -> None:
    engine = create_async_engine(sqlite_url)
    try:
        with pytest.raises(StorageUnavailable):
            await summarize(engine, "tenant")
    finally:
        await engine.dispose()


def test_percentile_is_postgresql_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.95) == pytest.approx(38.5)
    values = [float(v) for v in range(1, 101)]  # position 0.95 x 99 = 94.05 -> 95.05
    assert percentile(values, 0.95) == pytest.approx(95.05)


# -- the Gateway's rule: who sees what ----------------------------------------------------------


def gateway_on(url: str) -> Gateway:
    return Gateway.from_config(
        {
            "providers": {"f": {"type": "fake"}},
            "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
            "storage": {"url": url},
        }
    )


async def test_a_tenant_sees_only_its_own_usage(storage_url: str) -> None:
    await write_rows(storage_url)
    async with gateway_on(storage_url) as gateway:
        acme = Principal("q", tenant="acme", key_id="k1")
        mine = await gateway.usage_summary(acme, group_by="tenant")
        assert [g.keys["tenant"] for g in mine.groups] == ["acme"]
        assert mine.totals.requests == 4 and mine.totals.cost_usd == C1 + C2
        assert mine.query.tenant == "acme"
        # naming its own tenant is the same; naming another is 404, as if it did not exist
        same_again = await gateway.usage_summary(acme, tenant="acme")
        assert same_again.totals.requests == 4
        for other in ("beta", "nobody"):
            with pytest.raises(NotFound) as hidden:
                await gateway.usage_summary(acme, group_by="tenant", tenant=other)
            assert hidden.value.param == "tenant"
        # the admin sees everyone, and may narrow to one tenant
        everyone = await gateway.usage_summary(group_by="tenant")
        assert [g.keys["tenant"] for g in everyone.groups] == [None, "acme", "beta"]
        admin = Principal.anonymous_admin()
        beta = await gateway.usage_summary(admin, group_by="tenant", tenant="beta")
        assert [g.keys["tenant"] for g in beta.groups] == ["beta"]
        with pytest.raises(InvalidRequest) as bad:
            await gateway.usage_summary(acme, group_by="colour")
        assert bad.value.param == "group_by"


async def test_without_storage_the_summary_is_not_configured() -> None:
    gateway = Gateway.from_config(
        {
            "providers": {"f": {"type": "fake"}},
            "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
        }
    )
    async with gateway:
        with pytest.raises(NotConfigured) as refused:
            await gateway.usage_summary(group_by="tenant")
    assert refused.value.status_code == 501
