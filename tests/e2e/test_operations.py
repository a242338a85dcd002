"""The native operations endpoints against the served gateway: providers, live tests, breakers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchyard import Gateway
from switchyard.config.schema import SwitchyardConfig
from switchyard.providers.base import Provider
from switchyard.providers.fake import FakeProvider, FakeSettings
from tests.e2e.served import ServedGateway, serve
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply

KEY = "sk-test-master"
AUTH = {"Authorization": f"Bearer {KEY}"}
HELLO: Any = [{"role": "user", "content": "hello"}]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(upstream_url: str) -> dict[str, Any]:
    return {
        "server": {"master_key": KEY},
        "providers": {
            "a": {"type": "fake", "failure": {"status": 500}},
            "b": {"type": "fake", "reply": "from b"},
            "mirror": {"type": "openai", "base_url": upstream_url, "api_key": "k"},
            "gone": {
                "type": "openai",
                "base_url": f"http://127.0.0.1:{_closed_port()}/v1",
                "api_key": "k",
            },
        },
        "models": [
            {
                "name": "smart",
                "deployments": [
                    {"provider": "a", "model": "a-model"},
                    {"provider": "b", "model": "org/b-model"},  # a slash in the model name
                ],
            },
            {"name": "mirrored", "deployments": [{"provider": "mirror", "model": "gpt-4o-mini"}]},
        ],
        "router": {"retries": 0, "circuit_breaker": {"failure_threshold": 1}},
    }


@pytest.fixture(scope="module")
def upstream() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def served(upstream: OpenAIUpstream) -> Iterator[ServedGateway]:
    with serve(config(upstream.base_url)) as s:
        yield s


@pytest.fixture()
def http(served: ServedGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client:
        yield client


def breakers(http: httpx.Client) -> dict[str, dict[str, Any]]:
    reply = http.get("/api/v1/circuit-breakers")
    assert reply.status_code == 200
    return {row["key"]: row for row in reply.json()["data"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/providers"),
        ("POST", "/api/v1/providers/b/test"),
        ("GET", "/api/v1/circuit-breakers"),
        ("POST", "/api/v1/circuit-breakers/a/a-model/reset"),
        ("POST", "/api/v1/circuit-breakers/reset?key=a/a-model"),
    ],
)
def test_every_route_needs_the_master_key(served: ServedGateway, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        reply = httpx.request(method, served.url + path, headers=headers)
        assert reply.status_code == 401
        assert reply.json()["error"]["code"] == "invalid_api_key"


def test_providers_lists_deployments_with_health_and_breakers(http: httpx.Client) -> None:
    assert http.post("/v1/chat/completions", json={"model": "smart", "messages": HELLO}).is_success
    reply = http.get("/api/v1/providers")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    providers = {p["name"]: p for p in reply.json()["data"]}
    assert set(providers) == {"a", "b", "mirror", "gone"}
    a = providers["a"]
    assert a["type"] == "fake" and a["capabilities"]["tools"] is True
    assert a["probe"]["enabled"] is True and a["probe"]["interval_seconds"] == 30
    assert providers["mirror"]["probe"]["enabled"] is False  # a paid type: not probed
    [deployment] = a["deployments"]
    assert deployment["key"] == "a/a-model" and deployment["model"] == "a-model"
    assert deployment["last_error"] and "500" in deployment["last_error"]
    assert deployment["last_error_at"] is not None
    assert deployment["error_rate"] > 0 and deployment["in_flight"] == 0
    assert deployment["breaker"]["state"] == "open"
    [b] = providers["b"]["deployments"]
    assert b["key"] == "b/org/b-model" and b["status"] == "healthy"
    assert b["latency_p50_ms"] is not None and b["latency_p95_ms"] is not None
    assert b["breaker"]["state"] == "closed"
    assert providers["gone"]["deployments"] == []


def test_health_test_reports_latency(http: httpx.Client) -> None:
    reply = http.post("/api/v1/providers/b/test")
    assert reply.status_code == 200
    body = reply.json()
    assert body["ok"] is True and body["provider"] == "b" and body["mode"] == "health"
    assert body["status"] == "healthy"
    assert body["latency_ms"] >= 0 and "error" not in body


def test_a_failing_provider_is_reported_not_raised(http: httpx.Client) -> None:
    reply = http.post("/api/v1/providers/gone/test")
    assert reply.status_code == 200
    body = reply.json()
    assert body["ok"] is False and body["status"] == "down"
    assert body["error"]["type"] == "api_error"
    assert body["error"]["code"] == "provider_unavailable"
    assert body["error"]["message"]


class Unchecked(FakeProvider):
    """A provider on the base class's health check: it has nothing it can ask."""

    health_check = Provider.health_check


def test_a_provider_that_cannot_check_is_never_reported_healthy() -> None:
    """Azure with nothing listening is down (its check asks the resource for its models); a
    provider with no check says unknown, and its deployments' health is left as it was."""
    cfg = SwitchyardConfig.model_validate(
        {
            "server": {"master_key": KEY},
            "providers": {
                "az": {
                    "type": "azure_openai",
                    "endpoint": f"http://127.0.0.1:{_closed_port()}",
                    "api_key": "k",
                },
                "blind": {"type": "fake"},
            },
            "models": [{"name": "m", "deployments": [{"provider": "blind", "model": "x"}]}],
        }
    )
    blind = cfg.providers["blind"]
    assert isinstance(blind, FakeSettings)
    gateway = Gateway(cfg, providers={"blind": Unchecked("blind", blind)})
    with serve(gateway) as served, httpx.Client(base_url=served.url, headers=AUTH) as http:
        az = http.post("/api/v1/providers/az/test").json()
        assert az["ok"] is False and az["status"] == "down"
        assert az["error"]["code"] == "provider_unavailable"
        unknown = http.post("/api/v1/providers/blind/test").json()
        assert unknown["ok"] is None and unknown["status"] == "unknown"
        assert "error" not in unknown
        providers = {p["name"]: p for p in http.get("/api/v1/providers").json()["data"]}
        blind_view = providers["blind"]
        assert blind_view["status"] == "unknown"
        assert blind_view["probe"]["last"]["ok"] is None
        assert blind_view["deployments"][0]["status"] == "unknown"
        assert providers["az"]["status"] == "down"


def test_chat_mode_sends_one_token_to_a_deployment(
    http: httpx.Client, upstream: OpenAIUpstream
) -> None:
    upstream.reset()
    reply = http.post("/api/v1/providers/mirror/test", params={"mode": "chat"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["ok"] is True and body["model"] == "gpt-4o-mini"
    [sent] = upstream.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.json["model"] == "gpt-4o-mini"
    assert sent.json.get("max_tokens") == 1 or sent.json.get("max_completion_tokens") == 1


def test_chat_mode_maps_the_upstream_error(http: httpx.Client, upstream: OpenAIUpstream) -> None:
    upstream.reset()
    upstream.script(Reply.error(401, "Incorrect API key provided", code="invalid_api_key"))
    body = http.post("/api/v1/providers/mirror/test?mode=chat").json()
    assert body["ok"] is False
    assert body["error"]["code"] == "upstream_auth_failed"  # the gateway's key, not the caller's
    assert body["error"]["upstream_status"] == 401


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/providers/nope/test", 404, "model_not_found"),
        ("/api/v1/providers/b/test?mode=bogus", 400, "invalid_request"),
        ("/api/v1/providers/gone/test?mode=chat", 400, "invalid_request"),  # no deployment
        ("/api/v1/circuit-breakers/nope/x/reset", 404, "model_not_found"),
        ("/api/v1/circuit-breakers/reset?key=nokey", 400, "invalid_request"),
    ],
)
def test_errors_are_openai_error_json(
    http: httpx.Client, path: str, status: int, code: str
) -> None:
    reply = http.post(path)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] == code and error["message"]


def test_breakers_list_and_reset(http: httpx.Client) -> None:
    assert http.post("/v1/chat/completions", json={"model": "smart", "messages": HELLO}).is_success
    rows = breakers(http)
    assert set(rows) == {"a/a-model", "b/org/b-model", "mirror/gpt-4o-mini"}
    assert rows["a/a-model"]["state"] == "open" and rows["a/a-model"]["provider"] == "a"
    assert rows["a/a-model"]["retry_in_seconds"] > 0

    reply = http.post("/api/v1/circuit-breakers/a/a-model/reset")
    assert reply.status_code == 200
    assert reply.json()["breaker"]["state"] == "closed"
    assert breakers(http)["a/a-model"]["state"] == "closed"

    # a model name with a slash: in the path, or as ?key=
    reply = http.post("/api/v1/circuit-breakers/b/org/b-model/reset")
    assert reply.status_code == 200 and reply.json()["key"] == "b/org/b-model"
    reply = http.post("/api/v1/circuit-breakers/reset", params={"key": "b/org/b-model"})
    assert reply.status_code == 200 and reply.json()["key"] == "b/org/b-model"
