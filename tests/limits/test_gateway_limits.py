"""Limits at the Gateway (the library), on both backends: global, tenant and key RPM and TPM,
token quotas, deployment limits (failover first), the estimate corrected by the real usage."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.errors import LimitExceeded, RateLimited
from switchyard.types import Grant, Limits, Principal
from switchyard.types.principal import new_request_id
from tests.fakes.gateway import fake_provider

HELLO: Any = [{"role": "user", "content": "hello there"}]


def config(limits: dict[str, Any], **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "providers": {"f": {"type": "fake", "reply": "one two three four"}},
        "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
        "limits": limits,
    }
    base.update(extra)
    return base


async def settled(gateway: Gateway) -> None:
    """Wait for the corrections sent so far (they run off the request path)."""
    if gateway.admission is not None:
        await gateway.admission.limiter.drain()


def caller(tenant: str, key_id: str, grant: Grant) -> Principal:
    return Principal(request_id=new_request_id(), tenant=tenant, key_id=key_id, grant=grant)


async def test_global_rpm_admits_the_limit_then_429_with_the_numbers(
    limits_backend: dict[str, Any],
) -> None:
    async with Gateway.from_config(config({**limits_backend, "global": {"rpm": 3}})) as gateway:
        remaining = []
        for _ in range(3):
            response = await gateway.chat(model="smart", messages=HELLO)
            assert response.served_by is not None
            status = response.served_by.rate_limits
            assert status is not None and status.limit_requests == 3
            remaining.append(status.remaining_requests)
        assert remaining == [2, 1, 0]
        with pytest.raises(LimitExceeded) as refused:
            await gateway.chat(model="smart", messages=HELLO)
        error = refused.value
        assert error.status_code == 429 and error.code == "rate_limit_exceeded"
        assert error.retry_after is not None and 15 < error.retry_after <= 20.5  # 60 s / 3
        assert error.rate_limits.limit_requests == 3
        assert error.rate_limits.remaining_requests == 0
        assert fake_provider(gateway, "f").calls == 3  # refused before any deployment


async def test_tenant_and_key_limits_both_apply(limits_backend: dict[str, Any]) -> None:
    tenant_grant = Grant(limits=Limits(rpm=5), key_limits=Limits(rpm=2))
    async with Gateway.from_config(config(limits_backend)) as gateway:
        for _ in range(2):
            await gateway.chat(
                model="smart", messages=HELLO, principal=caller("acme", "k1", tenant_grant)
            )
        with pytest.raises(LimitExceeded, match="key 'k1' rpm"):
            await gateway.chat(
                model="smart", messages=HELLO, principal=caller("acme", "k1", tenant_grant)
            )
        for _ in range(2):
            await gateway.chat(
                model="smart", messages=HELLO, principal=caller("acme", "k2", tenant_grant)
            )
        await gateway.chat(
            model="smart", messages=HELLO, principal=caller("acme", "k3", tenant_grant)
        )
        with pytest.raises(LimitExceeded, match="tenant 'acme' rpm"):
            await gateway.chat(
                model="smart", messages=HELLO, principal=caller("acme", "k3", tenant_grant)
            )
        # another tenant has its own counters; the admin (no grant) has none
        await gateway.chat(
            model="smart", messages=HELLO, principal=caller("other", "k9", tenant_grant)
        )
        await gateway.chat(model="smart", messages=HELLO)


async def test_tpm_is_charged_the_estimate_then_corrected_to_the_real_usage(
    limits_backend: dict[str, Any],
) -> None:
    # each request is estimated at its input (about 7 tokens) plus max_tokens 30, and really
    # uses 6 (2 words in, 4 out): without the correction the second would not fit in 50
    async with Gateway.from_config(config({**limits_backend, "global": {"tpm": 50}})) as gateway:
        first = await gateway.chat(model="smart", messages=HELLO, max_tokens=30)
        assert first.served_by is not None and first.served_by.rate_limits is not None
        assert first.served_by.rate_limits.limit_tokens == 50
        assert first.served_by.rate_limits.remaining_tokens < 50 - 30
        await settled(gateway)
        second = await gateway.chat(model="smart", messages=HELLO, max_tokens=30)
        assert second.served_by is not None and second.served_by.rate_limits is not None
        await settled(gateway)
        with pytest.raises(LimitExceeded, match="global tpm") as refused:
            for _ in range(5):
                await gateway.chat(model="smart", messages=HELLO, max_tokens=30)
                await settled(gateway)
        assert refused.value.rate_limits.limit_tokens == 50
        # a request that could never fit is refused as such
        with pytest.raises(LimitExceeded, match="more than"):
            await gateway.chat(model="smart", messages=HELLO, max_tokens=500)


async def test_daily_token_quota_of_a_key(limits_backend: dict[str, Any]) -> None:
    grant = Grant(key_limits=Limits(tokens_per_day=20))
    async with Gateway.from_config(config(limits_backend)) as gateway:
        served = 0
        with pytest.raises(LimitExceeded, match="tokens_per_day"):
            for _ in range(10):
                await gateway.chat(
                    model="smart", messages=HELLO, max_tokens=4, principal=caller("t", "k", grant)
                )
                served += 1
                await settled(gateway)
        # 6 real tokens each, estimated 11 at admission: 20 fits three (6 + 6 + 11 > 20? no)
        assert served == 2


async def test_a_deployment_over_its_own_limit_is_skipped_before_any_429(
    limits_backend: dict[str, Any],
) -> None:
    models = [
        {
            "name": "smart",
            "deployments": [
                {"provider": "a", "model": "m", "limits": {"rpm": 2}},
                {"provider": "b", "model": "m"},
            ],
        },
        {"name": "only", "deployments": [{"provider": "c", "model": "m", "limits": {"rpm": 1}}]},
    ]
    providers = {name: {"type": "fake"} for name in "abc"}
    settings = config(limits_backend, models=models, providers=providers)
    settings["router"] = {"max_retry_after_seconds": 5}
    async with Gateway.from_config(settings) as gateway:
        answered = [(await gateway.chat(model="smart", messages=HELLO)).provider for _ in range(4)]
        assert answered == ["a", "a", "b", "b"]
        assert fake_provider(gateway, "a").calls == 2  # never asked past its limit
        await gateway.chat(model="only", messages=HELLO)
        started = time.monotonic()
        with pytest.raises(RateLimited) as refused:  # its only deployment: 60 s away > 5 s
            await gateway.chat(model="only", messages=HELLO)
        assert time.monotonic() - started < 2
        assert refused.value.status_code == 429 and refused.value.retry_after is not None
        assert fake_provider(gateway, "c").calls == 1


async def test_the_last_deployment_over_its_limit_is_waited_for(
    limits_backend: dict[str, Any],
) -> None:
    models = [
        {"name": "smart", "deployments": [{"provider": "f", "model": "m", "limits": {"rpm": 120}}]}
    ]
    async with Gateway.from_config(config(limits_backend, models=models)) as gateway:
        # 120 rpm: a burst of 120, then one every 0.5 s
        await asyncio.gather(*(gateway.chat(model="smart", messages=HELLO) for _ in range(120)))
        started = time.monotonic()
        response = await gateway.chat(model="smart", messages=HELLO)
        waited = time.monotonic() - started
        assert response.provider == "f"
        assert 0.3 < waited < 3.0


async def test_streams_and_embeddings_are_admitted_too(limits_backend: dict[str, Any]) -> None:
    async with Gateway.from_config(config({**limits_backend, "global": {"rpm": 2}})) as gateway:
        stream = gateway.stream(model="smart", messages=HELLO)
        text = "".join([c.text or "" async for c in stream])
        assert text == "one two three four"
        assert stream.served_by is not None and stream.served_by.rate_limits is not None
        assert stream.served_by.rate_limits.remaining_requests == 1
        await gateway.embed(model="smart", input="hello")
        with pytest.raises(LimitExceeded):
            async for _ in gateway.stream(model="smart", messages=HELLO):
                pass
        with pytest.raises(LimitExceeded):
            await gateway.embed(model="smart", input="hello")
