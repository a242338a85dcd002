"""Zero-config providers: with no config file, one provider for each standard key in the
environment, so ``openai/gpt-4.1-mini`` works at once beside the local model.

The variables are the ones each provider's own SDK reads (``OPENAI_API_KEY``, ...). A base URL
variable, where set, points the provider elsewhere (a proxy, a compatible server, a test's fake
upstream): the SDKs' own names where they have one (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``,
``GROQ_BASE_URL``, ``TOGETHER_BASE_URL``), else ``<PREFIX>_BASE_URL`` by the same rule. A file
config never gets these: what it names is all there is.

What was found is described by variable names only (:attr:`FoundProvider.sources`); the key
itself goes into the provider's settings as a secret and is never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic_core import PydanticCustomError

from switchyard.errors import ConfigError
from switchyard.providers.base import http_url

OLLAMA_DEFAULT_PORT = 11434


@dataclass(frozen=True, slots=True)
class EnvironmentProvider:
    """One row of the table: the provider ``name`` (of adapter ``type``) made when one of
    ``keys`` is set (the first set one wins), pointed at the first set of ``base_urls``."""

    name: str
    type: str
    keys: tuple[str, ...]
    base_urls: tuple[str, ...]


# The order is the order `switchyard models` lists them in.
ENVIRONMENT_PROVIDERS: tuple[EnvironmentProvider, ...] = (
    EnvironmentProvider("openai", "openai", ("OPENAI_API_KEY",), ("OPENAI_BASE_URL",)),
    EnvironmentProvider("anthropic", "anthropic", ("ANTHROPIC_API_KEY",), ("ANTHROPIC_BASE_URL",)),
    # Google's SDK takes GOOGLE_API_KEY over GEMINI_API_KEY when both are set; so do we
    EnvironmentProvider(
        "gemini",
        "gemini",
        ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
        ("GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"),
    ),
    EnvironmentProvider(
        "openrouter", "openrouter", ("OPENROUTER_API_KEY",), ("OPENROUTER_BASE_URL",)
    ),
    EnvironmentProvider("deepseek", "deepseek", ("DEEPSEEK_API_KEY",), ("DEEPSEEK_BASE_URL",)),
    EnvironmentProvider("cohere", "cohere", ("COHERE_API_KEY", "CO_API_KEY"), ("COHERE_BASE_URL",)),
    EnvironmentProvider("mistral", "mistral", ("MISTRAL_API_KEY",), ("MISTRAL_BASE_URL",)),
    EnvironmentProvider("groq", "groq", ("GROQ_API_KEY",), ("GROQ_BASE_URL",)),
    EnvironmentProvider("together", "together", ("TOGETHER_API_KEY",), ("TOGETHER_BASE_URL",)),
    EnvironmentProvider("huggingface", "huggingface", ("HF_TOKEN",), ("HF_BASE_URL",)),
)
OLLAMA_HOST = "OLLAMA_HOST"  # the server itself; OLLAMA_API_KEY is its optional key
OLLAMA_API_KEY = "OLLAMA_API_KEY"


@dataclass(frozen=True, slots=True)
class FoundProvider:
    """A provider made from the environment: its config entry and the variables it came from
    (names only: ``sources`` never holds a value)."""

    name: str
    type: str
    settings: dict[str, Any]
    sources: tuple[str, ...]


def environment_providers(env: Mapping[str, str]) -> list[FoundProvider]:
    """The providers the standard variables in ``env`` describe (empty values count as unset);
    a base URL variable that is not an http(s) URL is a :class:`ConfigError` naming it."""
    found: list[FoundProvider] = []
    for row in ENVIRONMENT_PROVIDERS:
        key_name = _first_set(env, row.keys)
        if key_name is None:
            continue
        settings: dict[str, Any] = {"type": row.type, "api_key": env[key_name].strip()}
        sources = [key_name]
        url_name = _first_set(env, row.base_urls)
        if url_name is not None:
            settings["base_url"] = _checked_url(url_name, env[url_name].strip())
            sources.append(url_name)
        found.append(FoundProvider(row.name, row.type, settings, tuple(sources)))
    host = env.get(OLLAMA_HOST, "").strip()
    if host:
        settings = {"type": "ollama", "base_url": _checked_url(OLLAMA_HOST, ollama_url(host))}
        sources = [OLLAMA_HOST]
        if env.get(OLLAMA_API_KEY):
            settings["api_key"] = env[OLLAMA_API_KEY].strip()
            sources.append(OLLAMA_API_KEY)
        found.append(FoundProvider("ollama", "ollama", settings, tuple(sources)))
    return found


def ollama_url(host: str) -> str:
    """``OLLAMA_HOST`` as Ollama's own clients read it: ``host``, ``host:port`` or a URL; no
    scheme means http and port 11434, a scheme without a port its usual one (80, 443);
    ``0.0.0.0`` (a server's listen-everywhere address) is reached at 127.0.0.1."""
    scheme, sep, rest = host.partition("://")
    if not sep:
        scheme, rest = "http", host
    default_port = OLLAMA_DEFAULT_PORT if not sep else (443 if scheme == "https" else 80)
    parts = urlsplit(f"{scheme}://{rest}")
    hostname = parts.hostname or "127.0.0.1"
    if hostname == "0.0.0.0":
        hostname = "127.0.0.1"
    if ":" in hostname:  # IPv6
        hostname = f"[{hostname}]"
    try:
        port = parts.port or default_port
    except ValueError:
        return host  # not a port: refused by the URL check with the variable's name
    return f"{scheme}://{hostname}:{port}{parts.path.rstrip('/')}"


def _first_set(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if env.get(name, "").strip()), None)


def _checked_url(name: str, value: str) -> str:
    try:
        http_url(value)
    except PydanticCustomError as exc:
        raise ConfigError([(name, str(exc))], "the environment") from None
    return value


__all__ = [
    "ENVIRONMENT_PROVIDERS",
    "EnvironmentProvider",
    "FoundProvider",
    "environment_providers",
    "ollama_url",
]
