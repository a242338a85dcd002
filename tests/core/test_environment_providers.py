"""Zero-config providers: with no config file, each standard key in the environment adds its
provider beside the local model, pointed at a fake upstream on 127.0.0.1 through the SDKs'
own base URL variables; the keys never appear in a log line or in ``switchyard models``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fakes.anthropic_upstream import AnthropicUpstream
from tests.fakes.fixtures import fresh
from tests.fakes.ollama_upstream import OllamaUpstream
from tests.fakes.openai_upstream import OpenAIUpstream

from switchyard import ConfigError, Gateway
from switchyard.config.environment_providers import (
    ENVIRONMENT_PROVIDERS,
    environment_providers,
    ollama_url,
)
from switchyard.config.load import load_config

OPENAI_KEY = "sk-test-openai-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-test-0123456789abcdef"
OLLAMA_KEY = "ollama-test-key-0123456789"


@pytest.fixture(scope="module")
def _anthropic_server() -> Iterator[AnthropicUpstream]:
    with AnthropicUpstream() as server:
        yield server


@pytest.fixture
def anthropic_upstream(_anthropic_server: AnthropicUpstream) -> Iterator[AnthropicUpstream]:
    with fresh(_anthropic_server) as upstream:
        yield upstream


@pytest.fixture(scope="module")
def _ollama_server() -> Iterator[OllamaUpstream]:
    with OllamaUpstream() as server:
        yield server


@pytest.fixture
def ollama_upstream(_ollama_server: OllamaUpstream) -> Iterator[OllamaUpstream]:
    with fresh(_ollama_server) as upstream:
        yield upstream


# -- what the environment describes ---------------------------------------------------------


def test_every_standard_key_makes_its_provider() -> None:
    env = {key: f"value-of-{key}" for row in ENVIRONMENT_PROVIDERS for key in row.keys[:1]}
    env["OLLAMA_HOST"] = "127.0.0.1:11434"
    found = {p.name: p for p in environment_providers(env)}
    assert list(found) == [
        "openai",
        "anthropic",
        "gemini",
        "openrouter",
        "deepseek",
        "cohere",
        "mistral",
        "groq",
        "together",
        "huggingface",
        "ollama",
    ]
    assert found["huggingface"].settings == {"type": "huggingface", "api_key": "value-of-HF_TOKEN"}
    assert found["huggingface"].sources == ("HF_TOKEN",)
    assert found["ollama"].settings == {"type": "ollama", "base_url": "http://127.0.0.1:11434"}
    # and each is a provider the config accepts
    config = load_config(None, env=env)
    assert {name: p.type for name, p in config.providers.items()} == {
        "local": "local",
        **{name: p.type for name, p in found.items()},
    }


def test_nothing_set_or_empty_values_add_nothing() -> None:
    assert environment_providers({}) == []
    assert environment_providers({"OPENAI_API_KEY": "", "OLLAMA_HOST": "  "}) == []
    assert set(load_config(None, env={"OPENAI_API_KEY": ""}).providers) == {"local"}


def test_google_api_key_wins_over_gemini_api_key_as_in_google_s_sdk() -> None:
    [gemini] = environment_providers({"GEMINI_API_KEY": "g1", "GOOGLE_API_KEY": "g2"})
    assert gemini.settings["api_key"] == "g2" and gemini.sources == ("GOOGLE_API_KEY",)
    [gemini] = environment_providers({"GEMINI_API_KEY": "g1"})
    assert gemini.settings["api_key"] == "g1"


def test_base_url_variables_point_a_provider_elsewhere() -> None:
    env = {
        "OPENAI_API_KEY": "k",
        "OPENAI_BASE_URL": "http://127.0.0.1:9000/v1",
        "GEMINI_API_KEY": "k",
        "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:9001",
    }
    found = {p.name: p for p in environment_providers(env)}
    assert found["openai"].settings["base_url"] == "http://127.0.0.1:9000/v1"
    assert found["openai"].sources == ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    assert found["gemini"].settings["base_url"] == "http://127.0.0.1:9001"
    config = load_config(None, env=env)
    assert config.providers["openai"].base_url == "http://127.0.0.1:9000/v1"


def test_a_base_url_that_is_not_a_url_names_its_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": "127.0.0.1/v1"})
    assert caught.value.problems[0][0] == "OPENAI_BASE_URL"
    assert OPENAI_KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),  # a server's listen address, reached locally
        ("gpu-box:8000", "http://gpu-box:8000"),
        ("http://gpu-box", "http://gpu-box:80"),
        ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("https://ollama.example.com/proxy/", "https://ollama.example.com:443/proxy"),
        ("[::1]:11500", "http://[::1]:11500"),
    ],
)
def test_ollama_host_is_read_as_ollama_s_clients_read_it(host: str, url: str) -> None:
    assert ollama_url(host) == url


def test_a_config_file_gets_no_environment_providers(tmp_path: Path) -> None:
    path = tmp_path / "switchyard.yaml"
    path.write_text("providers: {f: {type: fake}}\n")
    env = {"OPENAI_API_KEY": OPENAI_KEY}
    assert set(load_config(path, env=env).providers) == {"f"}
    assert set(load_config(None, env={**env, "SWITCHYARD_CONFIG": str(path)}).providers) == {"f"}
    assert set(load_config({"providers": {}}, env=env).providers) == set()


def test_the_local_provider_keeps_its_name() -> None:
    config = load_config(None, env={"OPENAI_API_KEY": OPENAI_KEY})
    assert config.providers["local"].type == "local"
    assert [alias.name for alias in config.models] == ["local", "local-embed"]


# -- requests through them --------------------------------------------------------------------


async def test_provider_slash_model_works_at_once_and_no_key_is_logged(
    openai_upstream: OpenAIUpstream,
    anthropic_upstream: AnthropicUpstream,
    ollama_upstream: OllamaUpstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": openai_upstream.base_url,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "ANTHROPIC_BASE_URL": anthropic_upstream.base_url,
        "OLLAMA_HOST": f"127.0.0.1:{ollama_upstream.port}",
        "OLLAMA_API_KEY": OLLAMA_KEY,
    }
    with caplog.at_level(logging.DEBUG):
        config = load_config(None, env=env)
        # no usage database in the working directory, and the local model is never loaded
        gateway = Gateway(config.model_copy(update={"storage": None}))
        try:
            openai = await gateway.complete("hello openai", model="openai/gpt-4.1-mini")
            claude = await gateway.complete("hello claude", model="anthropic/claude-haiku-4-5")
            llama = await gateway.complete("hello llama", model="ollama/llama3.2")
        finally:
            await gateway.aclose()
    assert (openai.text, claude.text, llama.text) == ("hello openai", "hello claude", "hello llama")
    assert openai_upstream.requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert anthropic_upstream.requests[0].headers["x-api-key"] == ANTHROPIC_KEY
    assert ollama_upstream.requests[-1].headers["authorization"] == f"Bearer {OLLAMA_KEY}"
    assert "providers from the environment: openai (OPENAI_API_KEY, OPENAI_BASE_URL)" in (
        caplog.text
    )
    for key in (OPENAI_KEY, ANTHROPIC_KEY, OLLAMA_KEY):
        assert key not in caplog.text


def test_switchyard_models_shows_what_was_found_never_the_keys(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "SWITCHYARD_CONFIG" and not key.endswith(("_API_KEY", "_BASE_URL"))
    }
    env.update(
        OPENAI_API_KEY=OPENAI_KEY,
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        ANTHROPIC_API_KEY=ANTHROPIC_KEY,
        OLLAMA_HOST="127.0.0.1:9",
        OLLAMA_API_KEY=OLLAMA_KEY,
        COLUMNS="200",
    )
    result = subprocess.run(
        [sys.executable, "-m", "switchyard", "models"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    assert "Providers found in the environment" in shown
    assert "OPENAI_API_KEY, OPENAI_BASE_URL" in shown
    assert "ANTHROPIC_API_KEY" in shown and "OLLAMA_HOST, OLLAMA_API_KEY" in shown
    for key in (OPENAI_KEY, ANTHROPIC_KEY, OLLAMA_KEY):
        assert key not in result.stdout + result.stderr
    assert not (tmp_path / "switchyard.db").exists()  # listing models opens no database

    with_file = tmp_path / "switchyard.yaml"
    with_file.write_text("providers: {f: {type: fake}}\n")
    listed = subprocess.run(
        [sys.executable, "-m", "switchyard", "models", "--config", str(with_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "Providers found in the environment" not in listed.stdout
