"""A provider's ``base_url`` must be an http(s) URL with a host: one without a scheme passed
``config check`` and then failed every request with a 500."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchyard import ConfigError, load_config


@pytest.mark.parametrize(
    ("provider_type", "base_url"),
    [
        ("openai", "127.0.0.1:9000/v1"),
        ("openai", "localhost:9000/v1"),
        ("anthropic", "ftp://127.0.0.1/"),
        ("ollama", "http:///v1"),
        ("vllm", "http://127.0.0.1:port/v1"),
        ("gemini", "generativelanguage.googleapis.com"),
    ],
)
def test_a_base_url_without_scheme_or_host_fails_at_load(provider_type: str, base_url: str) -> None:
    config = {"providers": {"mirror": {"type": provider_type, "base_url": base_url}}}
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "providers.mirror.base_url: must be an http:// or https:// URL" in str(caught.value)


def test_an_azure_endpoint_is_checked_the_same_way() -> None:
    config = {"providers": {"az": {"type": "azure_openai", "endpoint": "myres.openai.azure.com"}}}
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "providers.az.endpoint: must be an http:// or https:// URL" in str(caught.value)


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:9000/v1", "https://api.openai.com/v1", "http://[::1]:8000", "HTTPS://x.io"],
)
def test_http_urls_load(base_url: str) -> None:
    config = load_config({"providers": {"mirror": {"type": "openai", "base_url": base_url}}})
    assert config.providers["mirror"].base_url == base_url


def test_config_check_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "switchyard.yaml"
    path.write_text(
        "providers:\n  mirror: {type: openai, base_url: '127.0.0.1:9000/v1', api_key: none}\n"
        "models: [{name: m, deployments: [{provider: mirror, model: my-model}]}]\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "switchyard", "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 2
    assert "providers.mirror.base_url" in result.stderr
