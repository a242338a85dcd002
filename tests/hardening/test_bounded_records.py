"""Every ``provider/model`` name a client makes up costs memory (a health record, a breaker, a
routed candidate): at most ``router.max_direct_deployments`` of them are kept, least recently
used first out, while configured deployments keep theirs whatever clients send."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from switchyard import Gateway
from switchyard.resilience.breaker import BreakerSettings, MemoryBreakers
from switchyard.resilience.deployment_records import DeploymentRecords
from tests.e2e.served import serve
from tests.fakes.openai_upstream import OpenAIUpstream

HELLO: Any = [{"role": "user", "content": "hello"}]
CAP = 50


def config(**providers: dict[str, Any]) -> dict[str, Any]:
    return {
        "providers": {"a": {"type": "fake"}, "bad": {"type": "fake"}, **providers},
        "models": [
            {
                "name": "fixed",
                "deployments": [{"provider": "bad", "model": "m"}, {"provider": "a", "model": "m"}],
            }
        ],
        "router": {
            "retries": 0,
            "max_direct_deployments": CAP,
            "circuit_breaker": {"failure_threshold": 1, "recovery_timeout": 600},
        },
    }


def breakers(gateway: Gateway) -> MemoryBreakers:
    assert isinstance(gateway.breakers, MemoryBreakers)
    return gateway.breakers


async def test_direct_names_are_capped_and_configured_records_survive() -> None:
    gateway = Gateway.from_config(config(bad={"type": "fake", "failure": {"status": 500}}))
    assert (await gateway.chat(model="fixed", messages=HELLO)).provider == "a"
    for i in range(500):
        await gateway.chat(model=f"a/made-up-{i}", messages=HELLO)

    configured = 2  # bad/m and a/m
    assert len(gateway.health.deployments) <= CAP + configured
    assert len(breakers(gateway).breakers) <= CAP + configured
    assert len(gateway.router._direct) <= CAP
    # the configured deployments kept their history and the open breaker
    assert gateway.health.get("bad/m").failures == 1 and gateway.health.get("a/m").requests == 1
    [view] = await gateway.breakers.views(["bad/m"])
    assert view.state == "open"
    # the most recent names are the ones remembered
    assert "a/made-up-499" in gateway.health.deployments
    assert "a/made-up-0" not in gateway.health.deployments


async def test_evicting_an_in_flight_name_does_not_break_its_request() -> None:
    gateway = Gateway.from_config(config(slow={"type": "fake", "latency": 0.3, "reply": "late"}))
    slow = asyncio.create_task(gateway.chat(model="slow/x", messages=HELLO))
    await asyncio.sleep(0.05)
    assert gateway.health.get("slow/x").in_flight == 1
    for i in range(CAP + 10):
        await gateway.chat(model=f"a/made-up-{i}", messages=HELLO)
    assert "slow/x" not in gateway.health.deployments  # evicted while its request runs

    response = await slow
    assert response.text == "late"
    assert all(h.in_flight == 0 for h in gateway.health.deployments.values())
    assert len(gateway.health.deployments) <= CAP + 2


def test_a_recently_used_name_is_kept_over_an_older_one() -> None:
    records: DeploymentRecords[int] = DeploymentRecords(keep=["p/kept"], limit=2)
    records.add("p/kept", 0)
    records.add("p/one", 1)
    records.add("p/two", 2)
    assert records.get("p/one") == 1  # now the most recently used
    records.add("p/three", 3)
    assert "p/two" not in records and "p/one" in records and "p/kept" in records
    assert sorted(records.values()) == [0, 1, 3] and len(records) == 3


async def test_an_evicted_direct_breaker_starts_closed() -> None:
    store = MemoryBreakers(keep=["p/configured"], max_direct=1)
    settings = BreakerSettings(failure_threshold=1, recovery_timeout=600)
    for key in ("p/configured", "p/direct"):
        await store.record_failure(key, settings)
        assert not await store.allow(key, settings)
    await store.allow("p/other", settings)  # pushes p/direct out
    assert await store.allow("p/direct", settings)  # it lost its history, not its function
    assert not await store.allow("p/configured", settings)


def test_direct_names_through_the_served_gateway_stay_bounded(
    openai_upstream: OpenAIUpstream,
) -> None:
    gateway = Gateway.from_config(
        {
            "providers": {
                "up": {"type": "openai", "base_url": openai_upstream.base_url, "api_key": "k"}
            },
            "models": [{"name": "gpt", "deployments": [{"provider": "up", "model": "gpt-4o"}]}],
            "router": {"retries": 0, "max_direct_deployments": 5},
        }
    )
    with serve(gateway) as served, httpx.Client(base_url=served.base_url, timeout=10) as client:
        assert client.post("/chat/completions", json={"model": "gpt", "messages": HELLO}).is_success
        for i in range(40):
            reply = client.post("/chat/completions", json={"model": f"up/m-{i}", "messages": HELLO})
            assert reply.status_code == 200, reply.text
    assert len(gateway.health.deployments) <= 5 + 1
    assert len(breakers(gateway).breakers) <= 5 + 1
    assert gateway.health.get("up/gpt-4o").requests == 1
