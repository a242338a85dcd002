"""Dollar budgets held by reservation, on both backends, against the real ledger (SQLite)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.errors import ConfigError, ModelUnpriced, QuotaExceeded
from switchyard.limits.rules import USD_UNITS, period
from switchyard.types import Budget, Grant, Principal
from switchyard.types.principal import new_request_id
from tests.databases import read_usage

HELLO: Any = [{"role": "user", "content": "hello there"}]
# output only, so a request's hold (max_tokens 4 at $1000 per million) is exactly its real
# cost: 4 words out, $0.004
PRICES = {"input": 0.0, "output": 1000.0}
COST = Decimal("0.004")


def config(limits: dict[str, Any], url: str, **alias: Any) -> dict[str, Any]:
    return {
        "providers": {
            "f": {"type": "fake", "reply": "one two three four", "latency": 0.05},
            "free": {"type": "fake"},
        },
        "models": [
            {
                "name": "smart",
                "deployments": [{"provider": "f", "model": "m", "prices": PRICES}],
                **alias,
            },
            {"name": "unpriced", "deployments": [{"provider": "free", "model": "m"}]},
        ],
        "limits": limits,
        "storage": {"url": url, "flush_seconds": 0.05},
    }


def tenant_caller(budget: Budget) -> Principal:
    return Principal(
        request_id=new_request_id(), tenant="acme", key_id="k1", grant=Grant(budget=budget)
    )


async def ask(gateway: Gateway, principal: Principal | None = None) -> bool:
    try:
        await gateway.chat(model="smart", messages=HELLO, max_tokens=4, principal=principal)
    except QuotaExceeded as error:
        assert error.status_code == 429
        assert error.code == "insufficient_quota" and error.error_type == "insufficient_quota"
        return False
    return True


async def test_fifty_concurrent_requests_against_a_budget_for_ten(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    budget = Budget(usd=COST * 10, period="day")
    async with Gateway.from_config(config(limits_backend, sqlite_url)) as gateway:
        admitted = await asyncio.gather(*(ask(gateway, tenant_caller(budget)) for _ in range(50)))
        assert 10 <= sum(admitted) <= 11
        assert gateway.admission is not None
        await gateway.admission.limiter.drain()
        day = period("day", __import__("time").time())[0]
        counter = await gateway.admission.limiter.counters.value(f"b:tenant:acme:{day}")
    rows, _ = await read_usage(sqlite_url)
    assert len(rows) == 50
    spent = sum((r["cost_usd"] for r in rows if r["cost_usd"] is not None), Decimal(0))
    assert spent == COST * sum(admitted)
    assert counter is not None and Decimal(int(counter)) / USD_UNITS == spent


async def test_a_held_maximum_lets_concurrency_overshoot_by_one_request_at_most(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    # max_tokens unset: the hold is the catalog's (unknown: 4096 tokens) maximum, far above
    # the real cost, so few are admitted at once; all settle to their real cost
    budget = Budget(usd=Decimal("8"), period="month")

    async def unbounded() -> bool:
        try:
            await gateway.chat(model="smart", messages=HELLO, principal=tenant_caller(budget))
        except QuotaExceeded:
            return False
        return True

    async with Gateway.from_config(config(limits_backend, sqlite_url)) as gateway:
        admitted = await asyncio.gather(*(unbounded() for _ in range(20)))
        assert sum(admitted) == 2  # 4.096 held each: the second still saw room, the third none
        assert gateway.admission is not None
        await gateway.admission.limiter.drain()
        assert all(await asyncio.gather(*(unbounded() for _ in range(1))))


async def test_spend_survives_a_restart_through_the_ledger(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    settings = config(limits_backend, sqlite_url, budget={"usd": "0.03", "period": "month"})
    async with Gateway.from_config(settings) as gateway:
        assert [await ask(gateway) for _ in range(5)] == [True] * 5  # $0.020 of $0.030
    if limits_backend["backend"] == "redis":  # Redis lost its counters too: the ledger seeds
        import redis

        client = redis.Redis.from_url(limits_backend["url"])
        client.delete(*client.scan_iter(f"{limits_backend['prefix']}*"))
    async with Gateway.from_config(settings) as gateway:
        results = [await ask(gateway) for _ in range(5)]
    assert results == [True, True, True, False, False]  # 0.024, 0.028, then 0.032: spent


async def test_an_alias_budget_applies_to_every_caller(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    settings = config(limits_backend, sqlite_url, budget={"usd": "0.008", "period": "day"})
    async with Gateway.from_config(settings) as gateway:
        assert await ask(gateway)
        assert await ask(gateway, tenant_caller(Budget(usd=Decimal(1))))
        assert not await ask(gateway)
        assert not await ask(gateway, tenant_caller(Budget(usd=Decimal(1))))


async def test_a_key_budget_and_its_tenant_budget_both_hold(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    tenant, key = Budget(usd=Decimal("0.012")), Budget(usd=Decimal("0.008"))

    def key_caller(key_id: str) -> Principal:
        grant = Grant(budget=tenant, key_budget=key)
        return Principal(request_id=new_request_id(), tenant="acme", key_id=key_id, grant=grant)

    async with Gateway.from_config(config(limits_backend, sqlite_url)) as gateway:
        assert [await ask(gateway, key_caller("k1")) for _ in range(3)] == [True, True, False]
        assert [await ask(gateway, key_caller("k2")) for _ in range(2)] == [True, False]


async def test_a_failed_request_releases_its_hold(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    settings = config(limits_backend, sqlite_url, budget={"usd": "0.004", "period": "total"})
    settings["providers"]["f"]["failure"] = {"status": 400, "times": 3}
    async with Gateway.from_config(settings) as gateway:
        for _ in range(3):
            with pytest.raises(Exception, match="400"):
                await gateway.chat(model="smart", messages=HELLO, max_tokens=4)
            assert gateway.admission is not None
            await gateway.admission.limiter.drain()
        assert await ask(gateway)
        await gateway.admission.limiter.drain()
        assert not await ask(gateway)


async def test_unpriced_deployments_cannot_hold_a_budget(
    limits_backend: dict[str, Any], sqlite_url: str
) -> None:
    async with Gateway.from_config(config(limits_backend, sqlite_url)) as gateway:
        with pytest.raises(ModelUnpriced) as refused:
            await gateway.chat(
                model="unpriced", messages=HELLO, principal=tenant_caller(Budget(usd=Decimal(1)))
            )
        assert refused.value.status_code == 403 and refused.value.code == "model_unpriced"
    settings = config(limits_backend, sqlite_url)
    settings["models"][1]["budget"] = {"usd": 1}
    with pytest.raises(ConfigError, match=r"models\[1\]\.budget"):
        Gateway.from_config(settings)
