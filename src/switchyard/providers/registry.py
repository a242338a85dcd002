"""Adapter ``type`` names -> their settings model and their provider class.

The config's provider union is built from this table, so adding an adapter is one row here.
Provider classes are imported only when a provider of that type is built, so a heavy runtime
(llama.cpp) loads only for the users who configure it.
"""

from __future__ import annotations

import importlib
from typing import Any

from switchyard.catalog.catalog import Catalog
from switchyard.providers.anthropic.settings import AnthropicSettings
from switchyard.providers.base import Provider, ProviderSettings
from switchyard.providers.cohere.settings import CohereSettings
from switchyard.providers.fake import FakeSettings
from switchyard.providers.gemini.settings import GeminiSettings
from switchyard.providers.http import HttpClient
from switchyard.providers.http_api import HttpProvider
from switchyard.providers.local.settings import LocalSettings
from switchyard.providers.ollama.settings import OllamaSettings
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.providers.openai_compatible.presets import PRESET_ADAPTERS
from switchyard.providers.openai_compatible.settings import PresetConfig

# type -> (settings class, "module:ProviderClass")
ADAPTERS: dict[str, tuple[type[ProviderSettings], str]] = {
    "openai": (OpenAISettings, "switchyard.providers.openai.adapter:OpenAIProvider"),
    **PRESET_ADAPTERS,  # OpenAI-compatible services: openrouter, deepseek, mistral, ...
    "anthropic": (AnthropicSettings, "switchyard.providers.anthropic.adapter:AnthropicProvider"),
    "gemini": (GeminiSettings, "switchyard.providers.gemini.adapter:GeminiProvider"),
    "cohere": (CohereSettings, "switchyard.providers.cohere.adapter:CohereProvider"),
    "ollama": (OllamaSettings, "switchyard.providers.ollama.adapter:OllamaProvider"),
    "local": (LocalSettings, "switchyard.providers.local.adapter:LocalProvider"),
    "fake": (FakeSettings, "switchyard.providers.fake:FakeProvider"),
}

ProviderConfig = (
    OpenAISettings
    | AnthropicSettings
    | GeminiSettings
    | CohereSettings
    | OllamaSettings
    | LocalSettings
    | FakeSettings
    | PresetConfig
)


def provider_class(type_name: str) -> type[Provider[Any]]:
    _, target = ADAPTERS[type_name]
    module_name, _, class_name = target.partition(":")
    cls: type[Provider[Any]] = getattr(importlib.import_module(module_name), class_name)
    return cls


def build_provider(
    name: str,
    settings: ProviderSettings,
    *,
    http: HttpClient | None = None,
    catalog: Catalog | None = None,
) -> Provider[Any]:
    """The provider ``settings`` describe, named ``name``.

    ``catalog``: the gateway's (None: the packaged default). ``http``: an HTTP client to send
    with instead of the provider's own (tests and benchmarks pass one; its maker closes it);
    only the adapters that speak HTTP take one, and any other raises ``TypeError``.
    """
    cls = provider_class(settings.type)
    if http is None:
        return cls(name, settings, catalog=catalog)
    if not issubclass(cls, HttpProvider):
        raise TypeError(f"the {settings.type!r} adapter does not speak HTTP: it takes no client")
    return cls(name, settings, catalog=catalog, http=http)


__all__ = ["ADAPTERS", "ProviderConfig", "build_provider", "provider_class"]
