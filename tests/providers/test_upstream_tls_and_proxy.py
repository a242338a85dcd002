"""An HTTPS upstream: its certificate is verified (by default against the system's
authorities, so a private authority's certificate fails) unless ``providers.X.ca_bundle``
names that authority; ``providers.X.proxy`` tunnels the requests through an HTTP proxy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import ConfigError, SwitchyardError
from tests.e2e.replicas import upstream
from tests.e2e.served_process import free_port
from tests.fakes.certificates import connect_proxy, make_certificates

ASK = {"model": "smart", "messages": [{"role": "user", "content": "hi"}]}
ANSWER = "one two three four five"


def config(base_url: str, **provider: Any) -> dict[str, Any]:
    return {
        "providers": {
            "up": {"type": "openai", "base_url": f"{base_url}/v1", "api_key": "none", **provider}
        },
        "models": [{"name": "smart", "deployments": [{"provider": "up", "model": "m"}]}],
        "router": {"retries": 0},
    }


async def test_an_unknown_authority_fails_until_ca_bundle_names_it(tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path)
    with upstream(tls=certificates.server_context()) as up:
        async with Gateway.from_config(config(up.base_url)) as gateway:
            with pytest.raises(SwitchyardError) as refused:
                await gateway.chat(ASK)
        assert refused.value.status_code in (502, 503)
        assert "certificate" in str(refused.value.__cause__ or refused.value).lower()
        assert sum(up.answered.values()) == 0  # nothing was sent over the untrusted connection
        trusting = config(up.base_url, ca_bundle=str(certificates.ca))
        async with Gateway.from_config(trusting) as gateway:
            assert (await gateway.chat(ASK)).text == ANSWER
        assert up.answered["/v1/chat/completions"] == 1


async def test_a_proxy_carries_the_provider_requests(tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path)
    with upstream(tls=certificates.server_context()) as up, connect_proxy() as proxy:
        port = up.base_url.rsplit(":", 1)[1]
        proxied = config(up.base_url, ca_bundle=str(certificates.ca), proxy=proxy.url)
        async with Gateway.from_config(proxied) as gateway:
            for _ in range(3):
                assert (await gateway.chat(ASK)).text == ANSWER
        assert proxy.tunnels and set(proxy.tunnels) == {f"127.0.0.1:{port}"}
        assert up.answered["/v1/chat/completions"] == 3
        # the proxy is not optional once set: a proxy that is down fails the request
        gone = config(
            up.base_url, ca_bundle=str(certificates.ca), proxy=f"http://127.0.0.1:{free_port()}"
        )
        async with Gateway.from_config(gone) as gateway:
            with pytest.raises(SwitchyardError):
                await gateway.chat(ASK)
        assert up.answered["/v1/chat/completions"] == 3


def test_a_missing_ca_bundle_or_a_proxy_without_a_scheme_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"providers\.up\.ca_bundle"):
        Gateway.from_config(config("https://127.0.0.1:1", ca_bundle=str(tmp_path / "none.pem")))
    with pytest.raises(ConfigError, match=r"providers\.up\.proxy"):
        Gateway.from_config(config("https://127.0.0.1:1", proxy="127.0.0.1:3128"))


def test_the_proxy_password_is_a_secret_redacted_like_the_api_key() -> None:
    proxy = "http://me:pa55word@127.0.0.1:3128"
    settings = SwitchyardConfig(**config("https://127.0.0.1:1", proxy=proxy)).providers["up"]
    assert "pa55word" in settings.secrets()
