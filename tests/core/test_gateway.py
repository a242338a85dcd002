"""The request path through the library API, driven by the scripted `fake` provider."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.fakes.gateway import fake_provider

from switchyard import (
    DeadlineExceeded,
    Gateway,
    InvalidRequest,
    ModelNotFound,
    NoHealthyDeployment,
    ProviderUnavailable,
    RateLimited,
    Timeout,
    UpstreamAuthenticationError,
)
from switchyard.providers.fake import FakeFailure, FakeProvider

HELLO = [{"role": "user", "content": "hello there"}]


class Sleeps:
    """An injected sleep that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_gateway(
    *deployments: tuple[str, dict[str, Any]],
    strategy: str = "fallback",
    retries: int = 0,
    sleeps: Sleeps | None = None,
    **router: Any,
) -> Gateway:
    config = {
        "providers": {name: {"type": "fake", **settings} for name, settings in deployments},
        "models": [
            {
                "name": "smart",
                "strategy": strategy,
                "deployments": [
                    {"provider": name, "model": f"{name}-model"} for name, _ in deployments
                ],
            }
        ],
        "router": {"retries": retries, **router},
    }
    return Gateway.from_config(config, sleep=sleeps or Sleeps())


async def test_answers_from_the_first_deployment() -> None:
    gateway = make_gateway(("a", {"reply": "from a"}), ("b", {"reply": "from b"}))
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "from a"
    assert response.served_by is not None
    assert (response.served_by.provider, response.served_by.model) == ("a", "a-model")
    assert response.served_by.attempts == 1
    assert fake_provider(gateway, "a").requests[0].model == "a-model"


@pytest.mark.parametrize(
    "failure",
    [
        FakeFailure(status=500),
        FakeFailure(status=503),
        FakeFailure(status=429, retry_after=1),
        FakeFailure(mode="malformed"),
    ],
)
async def test_retryable_failure_fails_over_to_the_next_deployment(failure: FakeFailure) -> None:
    gateway = make_gateway(("a", {}), ("b", {"reply": "from b"}))
    fake_provider(gateway, "a").script(failure)
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "from b"
    assert response.served_by is not None and response.served_by.attempts == 2


async def test_attempt_timeout_fails_over() -> None:
    config = {
        "providers": {
            "a": {"type": "fake", "failure": {"mode": "timeout"}},
            "b": {"type": "fake", "reply": "b"},
        },
        "models": [
            {
                "name": "smart",
                "deployments": [
                    {"provider": "a", "model": "m", "timeout": 0.05},
                    {"provider": "b", "model": "m"},
                ],
            }
        ],
    }
    response = await Gateway.from_config(config).chat(model="smart", messages=HELLO)
    assert response.text == "b" and response.served_by and response.served_by.attempts == 2


@pytest.mark.parametrize("status", [400, 404, 413])
async def test_callers_errors_are_returned_not_failed_over(status: int) -> None:
    gateway = make_gateway(("a", {}), ("b", {"reply": "from b"}))
    fake_provider(gateway, "a").script(FakeFailure(status=status, body="bad field"))
    with pytest.raises(Exception) as caught:
        await gateway.chat(model="smart", messages=HELLO)
    assert getattr(caught.value, "status_code", None) == status
    assert fake_provider(gateway, "b").calls == 0


@pytest.mark.parametrize("status", [401, 403])
async def test_a_provider_refusing_the_gateways_key_fails_over(status: int) -> None:
    """An upstream 401/403 is about the gateway's credentials, not the caller's: the next
    deployment answers; when none can, the caller gets 502 ``upstream_auth_failed``."""
    gateway = make_gateway(("a", {}), ("b", {"reply": "from b"}))
    fake_provider(gateway, "a").script(FakeFailure(status=status, body="bad key"))
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "from b"
    for name in ("a", "b"):
        fake_provider(gateway, name).script(FakeFailure(status=status, body="bad key"))
    with pytest.raises(UpstreamAuthenticationError) as caught:
        await gateway.chat(model="smart", messages=HELLO)
    assert caught.value.status_code == 502 and caught.value.code == "upstream_auth_failed"


async def test_all_failing_raises_the_last_error_with_every_attempt_named() -> None:
    sleeps = Sleeps()
    gateway = make_gateway(
        ("a", {"failure": {"status": 500}}),
        ("b", {"failure": {"status": 503}}),
        retries=2,
        sleeps=sleeps,
    )
    with pytest.raises(ProviderUnavailable) as caught:
        await gateway.chat(model="smart", messages=HELLO)
    assert "6 attempt(s)" in str(caught.value)
    assert fake_provider(gateway, "a").calls == 3 and fake_provider(gateway, "b").calls == 3
    assert len(sleeps.delays) == 2  # a backoff between passes, none within a pass


async def test_retry_after_is_honoured_between_passes() -> None:
    sleeps = Sleeps()
    gateway = make_gateway(("a", {}), retries=1, sleeps=sleeps)
    fake_provider(gateway, "a").script(FakeFailure(status=429, retry_after=3.0), "ok")
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "ok"
    assert sleeps.delays and sleeps.delays[0] >= 3.0
    assert response.served_by and response.served_by.attempts == 2


async def test_rate_limited_to_the_end_keeps_retry_after() -> None:
    gateway = make_gateway(("a", {"failure": {"status": 429, "retry_after": 7}}))
    with pytest.raises(RateLimited) as caught:
        await gateway.chat(model="smart", messages=HELLO)
    assert caught.value.retry_after == 7


async def test_retry_after_beyond_the_deadline_stops_retrying() -> None:
    sleeps = Sleeps()
    gateway = make_gateway(
        ("a", {"failure": {"status": 429, "retry_after": 500}}),
        retries=3,
        sleeps=sleeps,
        deadline_seconds=10,
    )
    with pytest.raises(RateLimited):
        await gateway.chat(model="smart", messages=HELLO)
    assert sleeps.delays == [] and fake_provider(gateway, "a").calls == 1


async def test_overall_deadline_ends_a_slow_request() -> None:
    gateway = make_gateway(("a", {"latency": 5}))
    with pytest.raises(DeadlineExceeded) as caught:
        await gateway.chat(model="smart", messages=HELLO, timeout=0.05)
    assert caught.value.status_code == 504


async def test_open_breakers_give_no_healthy_deployment() -> None:
    gateway = make_gateway(
        ("a", {"failure": {"status": 500}}),
        circuit_breaker={"failure_threshold": 1, "recovery_timeout": 60},
    )
    with pytest.raises(ProviderUnavailable):
        await gateway.chat(model="smart", messages=HELLO)
    with pytest.raises(NoHealthyDeployment) as caught:
        await gateway.chat(model="smart", messages=HELLO)
    assert caught.value.status_code == 503
    assert fake_provider(gateway, "a").calls == 1


async def test_weighted_strategy_spreads_by_weight_and_still_fails_over() -> None:
    config = {
        "providers": {"a": {"type": "fake", "reply": "a"}, "b": {"type": "fake", "reply": "b"}},
        "models": [
            {
                "name": "w",
                "strategy": "weighted",
                "deployments": [
                    {"provider": "a", "model": "m", "weight": 3},
                    {"provider": "b", "model": "m", "weight": 1},
                ],
            }
        ],
    }
    import random

    gateway = Gateway.from_config(config, rng=random.Random(42))
    answers = [(await gateway.chat(model="w", messages=HELLO)).text for _ in range(400)]
    share = answers.count("a") / len(answers)
    assert 0.68 < share < 0.82
    fake_provider(gateway, "a").script(*[FakeFailure(status=500)] * 50)
    assert {(await gateway.chat(model="w", messages=HELLO)).text for _ in range(20)} == {"b"}


async def test_provider_slash_model_addresses_a_deployment_directly() -> None:
    gateway = make_gateway(("a", {"reply": "direct"}))
    response = await gateway.chat(model="a/any-model", messages=HELLO)
    assert response.text == "direct"
    assert fake_provider(gateway, "a").requests[0].model == "any-model"


async def test_unknown_model_is_model_not_found() -> None:
    gateway = make_gateway(("a", {}))
    with pytest.raises(ModelNotFound) as caught:
        await gateway.chat(model="nope", messages=HELLO)
    assert caught.value.param == "model"


async def test_invalid_library_request_names_the_field() -> None:
    gateway = make_gateway(("a", {}))
    with pytest.raises(InvalidRequest) as caught:
        await gateway.chat(model="smart", messages=[{"role": "wizard", "content": "x"}])
    assert caught.value.param is not None and caught.value.param.startswith("messages.0.role")


async def test_stream_fails_over_before_the_first_chunk() -> None:
    gateway = make_gateway(("a", {}), ("b", {"reply": "one two three"}))
    fake_provider(gateway, "a").script(FakeFailure(status=502))
    stream = gateway.stream(model="smart", messages=HELLO)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.text or "" for c in chunks) == "one two three"
    assert stream.served_by and stream.served_by.provider == "b" and stream.served_by.attempts == 2
    assert chunks[-1].usage is not None and chunks[-1].finish_reason == "stop"


async def test_stream_cut_after_first_chunk_raises_and_does_not_fail_over() -> None:
    gateway = make_gateway(("a", {"reply": "one two three four"}), ("b", {"reply": "b"}))
    fake_provider(gateway, "a").script(FakeFailure(mode="cut_stream", after_chunks=2))
    received: list[str] = []
    with pytest.raises(ProviderUnavailable):
        async for chunk in gateway.stream(model="smart", messages=HELLO):
            received.append(chunk.text or "")
    assert received == ["one", " two"]
    assert fake_provider(gateway, "b").calls == 0


async def test_stream_first_token_timeout_fails_over() -> None:
    config = {
        "providers": {
            "slow": {"type": "fake", "latency": 5},
            "fast": {"type": "fake", "reply": "hi"},
        },
        "models": [
            {
                "name": "s",
                "deployments": [
                    {
                        "provider": "slow",
                        "model": "m",
                        "timeout": {"first_token": 0.05, "total": 10},
                    },
                    {"provider": "fast", "model": "m"},
                ],
            }
        ],
    }
    gateway = Gateway.from_config(config)
    stream = gateway.stream(model="s", messages=HELLO)
    text = "".join([c.text or "" async for c in stream])
    assert text == "hi" and stream.served_by and stream.served_by.provider == "fast"


async def test_stream_total_timeout_mid_stream_raises_timeout() -> None:
    config = {
        "providers": {
            "drip": {"type": "fake", "reply": "a b c d e f g h", "tokens_per_second": 20}
        },
        "models": [
            {
                "name": "s",
                "deployments": [{"provider": "drip", "model": "m", "timeout": {"total": 0.12}}],
            }
        ],
    }
    gateway = Gateway.from_config(config)
    with pytest.raises(Timeout):
        async for _ in gateway.stream(model="s", messages=HELLO):
            pass


async def test_abandoned_stream_closes_the_upstream() -> None:
    closed = asyncio.Event()

    class Tracking(FakeProvider):
        async def stream(self, request):  # type: ignore[no-untyped-def,override]
            try:
                async for chunk in super().stream(request):
                    yield chunk
            finally:
                closed.set()

    plain = make_gateway(("a", {"reply": "one two three"}))
    gateway = Gateway(
        plain.config, providers={"a": Tracking("a", fake_provider(plain, "a").settings)}
    )
    stream = gateway.stream(model="smart", messages=HELLO)
    async for _ in stream:
        break
    await stream.aclose()
    assert closed.is_set()


async def test_cost_comes_from_deployment_prices() -> None:
    config = {
        "providers": {"a": {"type": "fake", "reply": "one two"}},
        "models": [
            {
                "name": "p",
                "deployments": [
                    {"provider": "a", "model": "m", "prices": {"input": 2.0, "output": 10.0}}
                ],
            }
        ],
    }
    gateway = Gateway.from_config(config)
    response = await gateway.chat(model="p", messages=[{"role": "user", "content": "a b c"}])
    assert (response.usage.input_tokens, response.usage.output_tokens) == (3, 2)
    assert response.cost is not None
    assert response.cost.total == pytest.approx((3 * 2.0 + 2 * 10.0) / 1e6)


async def test_embeddings_through_the_router() -> None:
    gateway = make_gateway(("a", {"embedding_dimensions": 4}))
    response = await gateway.embed(model="smart", input="hello")
    assert len(response.data) == 1 and len(response.data[0]) == 4
    assert response.served_by and response.served_by.provider == "a"


async def test_health_records_every_attempt_and_returns_to_zero_in_flight() -> None:
    gateway = make_gateway(("a", {}), ("b", {"reply": "from b"}))
    fake_provider(gateway, "a").script(FakeFailure(status=500))
    await gateway.chat(model="smart", messages=HELLO)
    async for _ in gateway.stream(model="smart", messages=HELLO):
        pass
    a, b = gateway.health.view("a/a-model"), gateway.health.view("b/b-model")
    assert (a.requests, a.in_flight, a.error_rate) == (2, 0, 0.5)
    assert a.last_error is not None and "500" in a.last_error
    assert (b.requests, b.in_flight, b.error_rate) == (1, 0, 0.0)
    assert a.ttft_ms is not None  # the stream's first chunk came from a


async def test_rate_limits_do_not_open_the_breaker_unless_configured() -> None:
    gateway = make_gateway(
        ("a", {"failure": {"status": 429}}),
        ("b", {"reply": "b"}),
        circuit_breaker={"failure_threshold": 1, "recovery_timeout": 60},
    )
    for _ in range(3):
        response = await gateway.chat(model="smart", messages=HELLO)
        assert response.served_by is not None and response.served_by.attempts == 2
    assert fake_provider(gateway, "a").calls == 3
