"""The gateway's own credentials, through the served gateway: an upstream that refuses them is a
provider-side failure (failover, breaker, health, a loud log line), never the caller's 401; and
nothing an upstream echoes of them, nor internal details, reaches a client, a log or
``/api/v1/providers``."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import openai
import pytest
from aiohttp import web

from switchyard import Gateway, ProviderUnavailable
from tests.e2e.served import ServedGateway, serve
from tests.fakes.anthropic_upstream import AnthropicUpstream, error_reply
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply
from tests.hardening.served_state import deployment

HELLO: Any = [{"role": "user", "content": "hello"}]
MASTER = "sk-sy-master-key-for-tests"
OPENAI_KEY = "sk-proj-0123456789abcdefghijklmn"
ORG_HEADER = "corp-token-value-42"  # a configured header: not shaped like a key at all
ANTHROPIC_KEY = "plain-anthropic-key-987654321"
SECRETS = (OPENAI_KEY, ORG_HEADER, ANTHROPIC_KEY)


class EchoingOpenAI(OpenAIUpstream):
    """Refuses every call with ``status``, quoting the credentials it was sent, as a careless
    upstream or proxy does."""

    status = 401

    def _default(self, request: web.Request, body: Any) -> Reply:
        quoted = (
            f"Authorization: {request.headers.get('authorization')}; "
            f"x-org-secret: {request.headers.get('x-org-secret')}"
        )
        return Reply.error(self.status, f"refused ({quoted})", code="invalid_api_key")


class EchoingAnthropic(AnthropicUpstream):
    def _default(self, request: web.Request, body: Any) -> Reply:
        key = request.headers.get("x-api-key")
        return error_reply(401, "authentication_error", f"invalid x-api-key: {key}")


class FailingOpenAI(EchoingOpenAI):
    status = 500


def _no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "sk-" not in text.replace(MASTER, "")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[ServedGateway]:
    with (
        EchoingOpenAI() as echo,
        EchoingAnthropic() as claude,
        FailingOpenAI() as failing,
        OpenAIUpstream() as good,
    ):
        openai_echo = {
            "type": "openai",
            "base_url": echo.base_url,
            "api_key": OPENAI_KEY,
            "headers": {"x-org-secret": ORG_HEADER},
        }
        providers = {
            "echo": openai_echo,
            "claude": {"type": "anthropic", "base_url": claude.base_url, "api_key": ANTHROPIC_KEY},
            "failing": {**openai_echo, "base_url": failing.base_url},
            "good": {"type": "openai", "base_url": good.base_url, "api_key": "k"},
            "gone": {
                "type": "openai",
                "base_url": f"http://127.0.0.1:{_closed_port()}/v1",
                "api_key": OPENAI_KEY,
            },
        }
        config = {
            "server": {"master_key": MASTER},
            "providers": providers,
            "models": [
                {
                    "name": "smart",
                    "deployments": [
                        {"provider": "echo", "model": "m"},
                        {"provider": "claude", "model": "claude-m"},
                        {"provider": "good", "model": "m"},
                    ],
                },
                {
                    "name": "refused",
                    "deployments": [
                        {"provider": "echo", "model": "r"},
                        {"provider": "claude", "model": "claude-r"},
                    ],
                },
                {"name": "failing", "deployments": [{"provider": "failing", "model": "m"}]},
                {"name": "gone", "deployments": [{"provider": "gone", "model": "m"}]},
            ],
            "router": {"retries": 0, "circuit_breaker": {"failure_threshold": 1000}},
        }
        with serve(config) as gateway:
            yield gateway


def _providers_page(served: ServedGateway) -> str:
    return httpx.get(
        f"{served.url}/api/v1/providers", headers={"authorization": f"Bearer {MASTER}"}
    ).text


def test_a_refused_gateway_key_fails_over_to_the_next_deployment(
    served: ServedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    raw = served.client(MASTER).chat.completions.with_raw_response.create(
        model="smart", messages=HELLO
    )
    assert raw.parse().choices[0].message.content == "hello"
    assert raw.headers["x-switchyard-provider"] == "good"
    assert raw.headers["x-switchyard-attempts"] == "3"
    refused = [
        r for r in caplog.records if r.name == "switchyard.providers" and r.levelno >= logging.ERROR
    ]
    assert {r.getMessage().split("'")[1] for r in refused} == {"echo", "claude"}
    for record in caplog.records:
        _no_secret(record.getMessage())


def test_when_every_deployment_refuses_the_gateways_keys_the_client_gets_502(
    served: ServedGateway,
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        served.client(MASTER).chat.completions.create(model="refused", messages=HELLO)
    assert caught.value.status_code == 502  # not a 401: the caller's own key is fine
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "upstream_auth_failed"
    assert "[redacted]" in body["message"]
    _no_secret(body["message"])
    seen = deployment(served, "echo/r", MASTER)
    assert seen["breaker"]["consecutive_failures"] >= 1
    assert seen["error_rate"] == 1.0
    _no_secret(seen["last_error"])
    _no_secret(_providers_page(served))


def test_the_client_sees_401_only_for_its_own_key(served: ServedGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        served.client("sk-wrong-master-key").chat.completions.create(model="smart", messages=HELLO)


def test_an_echoed_credential_in_an_upstream_error_is_redacted(served: ServedGateway) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        served.client(MASTER).chat.completions.create(model="failing", messages=HELLO)
    assert caught.value.status_code == 503
    message = str(caught.value.body)
    assert "Bearer [redacted]" in message and "x-org-secret: [redacted]" in message
    _no_secret(message)
    _no_secret(_providers_page(served))


def test_an_unreachable_provider_is_named_without_its_address(
    served: ServedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        served.client(MASTER).chat.completions.create(model="gone", messages=HELLO)
    body = caught.value.body
    assert isinstance(body, dict)
    assert "provider 'gone' is unreachable (connection refused)" in body["message"]
    assert "127.0.0.1" not in body["message"] and "Cannot connect" not in body["message"]
    [logged] = [r for r in caplog.records if r.name == "switchyard.providers"]
    assert logged.levelno == logging.WARNING
    assert "127.0.0.1" in logged.getMessage()  # the details are in the log, once


def test_a_proxys_html_page_stays_in_the_log() -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx at 10.1.2.3</body></html>"
    with OpenAIUpstream() as mirror:
        mirror.script(Reply.raw_bytes(page, 502, content_type="text/html"))
        config = {
            "providers": {"mirror": {"type": "openai", "base_url": mirror.base_url}},
            "models": [{"name": "m", "deployments": [{"provider": "mirror", "model": "m"}]}],
            "router": {"retries": 0},
        }
        with serve(config) as served:
            with pytest.raises(openai.APIStatusError) as caught:
                served.client().chat.completions.create(model="m", messages=HELLO)
    body = caught.value.body
    assert isinstance(body, dict)
    assert "provider 'mirror' answered 502 with a non-JSON body" in body["message"]
    assert "<html" not in body["message"] and "10.1.2.3" not in body["message"]


async def test_the_original_exception_is_kept_as_the_cause() -> None:
    config = {
        "providers": {
            "gone": {"type": "openai", "base_url": f"http://127.0.0.1:{_closed_port()}/v1"}
        },
        "models": [{"name": "m", "deployments": [{"provider": "gone", "model": "m"}]}],
        "router": {"retries": 0},
    }
    async with Gateway.from_config(config) as gateway:
        with pytest.raises(ProviderUnavailable) as caught:
            await gateway.chat(model="m", messages=HELLO)
    attempt_error = caught.value.__cause__
    assert isinstance(attempt_error, ProviderUnavailable)
    assert isinstance(attempt_error.__cause__, aiohttp.ClientConnectorError)
