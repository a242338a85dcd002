"""``gateway.limit_readings()``: each limit and budget with what is used and what remains now,
read from the counters admissions charge (both backends), scoped to who asks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from switchyard import Gateway, gateway_queries
from switchyard.admission import LimitReading
from switchyard.tenancy.settings import KeySpec
from switchyard.types import Budget, Limits, Principal
from tests.limits.conftest import PrivateRedis

HELLO: Any = [{"role": "user", "content": "hello there"}]
PRICES = {"input": 0.0, "output": 1000.0}  # 4 words out at max_tokens 4: $0.004 a request
COST = Decimal("0.004")


def config(limits: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        "providers": {"f": {"type": "fake", "reply": "one two three four"}},
        "models": [
            {"name": "smart", "deployments": [{"provider": "f", "model": "m", "prices": PRICES}]}
        ],
        "limits": {**limits, "global": {"rpm": 100}},
        "storage": {"url": url, "flush_seconds": 0.05},
        "tenants": [
            {
                "name": "acme",
                "limits": {"rpm": 10, "tpm": 1000, "tokens_per_day": 5000},
                "budget": {"usd": 1, "period": "day"},
            },
            {"name": "globex", "limits": {"rpm": 4}},
            {"name": "initech"},  # nothing to read
        ],
    }


def by_id(readings: list[LimitReading] | None) -> dict[str, LimitReading]:
    assert readings is not None
    return {f"{r.level}:{r.owner}:{r.name}": r for r in readings}


async def key_of(gateway: Gateway, spec: KeySpec) -> tuple[str, Principal]:
    assert gateway.accounts is not None
    row, secret = await gateway.accounts.create_key(spec)
    return row.id, await gateway.authenticate_key(secret.encode(), "rid")


async def test_used_and_remaining_per_tenant_and_key(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    async with Gateway.from_config(config(limits_backend, sqlite_url)) as gateway:
        acme_key, acme = await key_of(
            gateway,
            KeySpec(
                tenant="acme",
                limits=Limits(rpm=3),
                budget=Budget(usd=Decimal("0.5"), period="month"),
            ),
        )
        plain_key, _ = await key_of(gateway, KeySpec(tenant="acme"))  # no limits of its own
        globex_key, globex = await key_of(gateway, KeySpec(tenant="globex", limits=Limits(rpm=2)))

        before = by_id((await gateway.limit_readings()).readings)
        assert before["tenant:acme:rpm"].used == 0 and before["tenant:acme:rpm"].remaining == 10
        assert before["tenant:acme:budget"].used == 0  # never charged: the ledger's spend

        tokens = 0
        for _ in range(2):
            answer = await gateway.chat(model="smart", messages=HELLO, max_tokens=4, principal=acme)
            tokens += answer.usage.total_tokens
        assert gateway.admission is not None
        await gateway.admission.limiter.drain()  # the settled corrections, applied

        report = await gateway.limit_readings()  # the admin: everything
        read = by_id(report.readings)
        assert set(read) == {
            "global::rpm",
            "tenant:acme:rpm",
            "tenant:acme:tpm",
            "tenant:acme:tokens_per_day",
            "tenant:acme:budget",
            "tenant:globex:rpm",
            f"key:{acme_key}:rpm",
            f"key:{acme_key}:budget",
            f"key:{globex_key}:rpm",
        }
        assert plain_key not in {r.owner for r in read.values()}
        assert report.tenants == ["acme", "globex", "initech"]
        assert (read["global::rpm"].used, read["global::rpm"].remaining) == (2, 98)
        assert (read["tenant:acme:rpm"].used, read["tenant:acme:rpm"].remaining) == (2, 8)
        assert (read[f"key:{acme_key}:rpm"].used, read[f"key:{acme_key}:rpm"].remaining) == (2, 1)
        assert read["tenant:acme:tpm"].used == tokens and read["tenant:acme:tpm"].unit == "tokens"
        assert read["tenant:acme:tokens_per_day"].used == tokens
        assert read["tenant:acme:tokens_per_day"].period == "day"
        assert 0 < (read["tenant:acme:tokens_per_day"].resets_in or 0) <= 86_400
        budget = read["tenant:acme:budget"]
        assert (budget.unit, budget.limit, budget.used, budget.period) == (
            "usd",
            1,
            2 * COST,
            "day",
        )
        assert budget.remaining == 1 - 2 * COST
        key_budget = read[f"key:{acme_key}:budget"]
        assert (key_budget.limit, key_budget.used, key_budget.period) == (
            Decimal("0.5"),
            2 * COST,
            "month",
        )
        assert read["tenant:globex:rpm"].used == 0 and read["tenant:acme:rpm"].resets_in is None

        # a tenant's key: its tenant and its keys only, never another's, never the global
        mine = by_id((await gateway.limit_readings(acme)).readings)
        assert {r.owner for r in mine.values()} == {"acme", acme_key}
        theirs = await gateway.limit_readings(globex)
        assert {r.owner for r in by_id(theirs.readings).values()} == {"globex", globex_key}
        assert theirs.tenants == ["globex"]


async def test_a_budget_this_process_never_charged_reads_the_ledger(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    async with Gateway.from_config(config(limits_backend, sqlite_url)) as gateway:
        _, acme = await key_of(gateway, KeySpec(tenant="acme"))
        await gateway.chat(model="smart", messages=HELLO, max_tokens=4, principal=acme)
    if limits_backend["backend"] == "redis":  # a new period's counter: not seeded yet
        import redis

        client = redis.Redis.from_url(limits_backend["url"])
        client.delete(*client.keys(f"{limits_backend['prefix']}b:*"))
    async with Gateway.from_config(config(limits_backend, sqlite_url)) as fresh:
        read = by_id((await fresh.limit_readings()).readings)
        assert read["tenant:acme:budget"].used == COST  # from the usage rows
        # the request counters: per process in memory, shared (still in the window) in Redis
        assert read["tenant:acme:rpm"].used == (1 if limits_backend["backend"] == "redis" else 0)


async def test_an_unreachable_backend_reads_as_unknown(
    private_redis: PrivateRedis, sqlite_url: str
) -> None:
    limits = {"backend": "redis", "url": private_redis.url, "timeout_seconds": 0.2}
    async with Gateway.from_config(config(limits, sqlite_url)) as gateway:
        assert (await gateway.limit_readings()).readings is not None
        private_redis.stop()
        report = await gateway.limit_readings()
        assert report.readings is None and report.tenants == ["acme", "globex", "initech"]


async def test_without_storage_only_the_global_limits() -> None:
    gateway = Gateway.from_config(
        {
            "providers": {"f": {"type": "fake"}},
            "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
            "limits": {"global": {"rpm": 5, "tokens_per_month": 10}},
        }
    )
    await gateway.chat(model="smart", messages=HELLO, max_tokens=1)
    read = by_id((await gateway.limit_readings()).readings)
    assert set(read) == {"global::rpm", "global::tokens_per_month"}
    assert read["global::rpm"].used == 1
    assert read["global::tokens_per_month"].period == "month"


async def test_the_page_reads_a_bounded_number_of_tenants_and_keys(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_queries, "MAX_READ_OWNERS", 1)
    async with Gateway.from_config(config({"backend": "memory"}, sqlite_url)) as gateway:
        await key_of(gateway, KeySpec(tenant="acme", limits=Limits(rpm=3)))
        await key_of(gateway, KeySpec(tenant="acme", limits=Limits(rpm=2)))
        report = await gateway.limit_readings()
        # acme and globex have limits (one left out), initech none; two keys (one left out)
        assert report.left_out == 2
        assert {r.level for r in report.readings or []} == {"global", "tenant", "key"}
        assert len({r.owner for r in report.readings or [] if r.level == "key"}) == 1
