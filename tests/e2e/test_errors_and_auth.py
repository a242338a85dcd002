"""Every error status through the official `openai` SDK, against the served gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from switchyard import Gateway
from switchyard.providers.fake import FakeFailure
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider

HELLO: Any = [{"role": "user", "content": "hello"}]


def config(**router: Any) -> dict[str, Any]:
    return {
        "server": {"max_body_bytes": 4096},
        "providers": {
            "a": {"type": "fake", "reply": "from a"},
            "b": {"type": "fake", "reply": "from b"},
            "slow": {"type": "fake", "latency": 3},
        },
        "models": [
            {
                "name": "smart",
                "deployments": [{"provider": "a", "model": "m"}, {"provider": "b", "model": "m"}],
            },
            {"name": "only-a", "deployments": [{"provider": "a", "model": "m"}]},
            {"name": "slow", "deployments": [{"provider": "slow", "model": "m"}]},
        ],
        "router": {"retries": 0, **router},
    }


@pytest.fixture(scope="module")
def served() -> Iterator[ServedGateway]:
    with serve(config(circuit_breaker={"failure_threshold": 1000, "recovery_timeout": 1})) as s:
        yield s


@pytest.fixture()
def client(served: ServedGateway) -> openai.OpenAI:
    return served.client()


def test_success_carries_the_switchyard_headers(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="smart", messages=HELLO)
    assert raw.parse().choices[0].message.content == "from a"
    assert raw.headers["x-switchyard-provider"] == "a"
    assert raw.headers["x-switchyard-model"] == "m"
    assert raw.headers["x-switchyard-attempts"] == "1"
    assert float(raw.headers["x-switchyard-overhead-ms"]) >= 0
    assert len(raw.headers["x-request-id"]) >= 16


def test_request_id_is_echoed(served: ServedGateway) -> None:
    reply = httpx.post(
        f"{served.base_url}/chat/completions",
        headers={"x-request-id": "abc-123"},
        json={"model": "smart", "messages": HELLO},
    )
    assert reply.headers["x-request-id"] == "abc-123"


def test_400_names_the_field(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="smart", messages=HELLO, temperature="hot")  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert caught.value.param == "temperature"  # type: ignore[attr-defined]
    assert "temperature" in caught.value.message


def test_400_for_a_bad_message_role(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="smart", messages=[{"role": "wizard", "content": "x"}])  # type: ignore[list-item,misc]
    assert caught.value.param == "messages[0].role"  # type: ignore[attr-defined]


def test_400_for_a_body_that_is_not_json(served: ServedGateway) -> None:
    reply = httpx.post(
        f"{served.base_url}/chat/completions",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_404_unknown_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=HELLO)
    assert caught.value.code == "model_not_found"  # type: ignore[attr-defined]


def test_413_oversized_body(client: openai.OpenAI) -> None:
    big = [{"role": "user", "content": "x" * 10_000}]
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="smart", messages=big)  # type: ignore[arg-type]
    assert caught.value.status_code == 413


def test_429_with_retry_after(served: ServedGateway, client: openai.OpenAI) -> None:
    fake_provider(served.gateway, "a").script(FakeFailure(status=429, retry_after=7))
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="only-a", messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.response.headers["retry-after-ms"] == "7000"


def test_502_upstream_protocol_error(served: ServedGateway, client: openai.OpenAI) -> None:
    fake_provider(served.gateway, "a").script(FakeFailure(mode="malformed"))
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="only-a", messages=HELLO)
    assert caught.value.status_code == 502


def test_503_when_every_provider_is_unavailable(
    served: ServedGateway, client: openai.OpenAI
) -> None:
    fake_provider(served.gateway, "a").script(FakeFailure(status=500))
    fake_provider(served.gateway, "b").script(FakeFailure(status=503))
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="smart", messages=HELLO)
    assert caught.value.status_code == 503


def test_failover_is_visible_in_the_attempts_header(
    served: ServedGateway, client: openai.OpenAI
) -> None:
    fake_provider(served.gateway, "a").script(FakeFailure(status=500))
    raw = client.chat.completions.with_raw_response.create(model="smart", messages=HELLO)
    assert raw.parse().choices[0].message.content == "from b"
    assert raw.headers["x-switchyard-attempts"] == "2"
    assert raw.headers["x-switchyard-provider"] == "b"


def test_504_when_the_deadline_runs_out(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="slow", messages=HELLO, extra_body={"switchyard": {"timeout": 0.1}}
        )
    assert caught.value.status_code == 504


def test_unknown_route_is_a_json_404(served: ServedGateway) -> None:
    reply = httpx.get(f"{served.url}/v1/nothing-here")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"


def test_health_and_readiness(served: ServedGateway) -> None:
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{served.url}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_503_no_healthy_deployment_when_breakers_are_open() -> None:
    cfg = config(circuit_breaker={"failure_threshold": 1, "recovery_timeout": 60})
    cfg["providers"]["a"]["failure"] = {"status": 500}
    with serve(cfg) as served:
        client = served.client()
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="only-a", messages=HELLO)
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="only-a", messages=HELLO)
        assert caught.value.code == "no_healthy_deployment"  # type: ignore[attr-defined]


def test_master_key_is_required_when_set() -> None:
    cfg = config()
    cfg["server"]["master_key"] = "s3cret-key"
    with serve(Gateway.from_config(cfg)) as served:
        anonymous = served.client("wrong")
        with pytest.raises(openai.AuthenticationError):
            anonymous.chat.completions.create(model="smart", messages=HELLO)
        with pytest.raises(openai.AuthenticationError):
            anonymous.models.list()
        keyed = served.client("s3cret-key")
        assert (
            keyed.chat.completions.create(model="smart", messages=HELLO).choices[0].message.content
        )
        assert httpx.get(f"{served.url}/healthz").status_code == 200


def test_prefer_header_puts_a_provider_first(served: ServedGateway) -> None:
    reply = httpx.post(
        f"{served.base_url}/chat/completions",
        headers={"x-switchyard-prefer": "b"},
        json={"model": "smart", "messages": HELLO},
    )
    assert reply.headers["x-switchyard-provider"] == "b"
