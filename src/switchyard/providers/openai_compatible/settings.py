"""Config models of the OpenAI-compatible presets: one small class per preset, its ``type``
literal naming it, plus the fields only that service has.

``base_url`` left unset means the preset's default (see ``presets.py``); a preset without one
(``vllm``, ``tgi``) requires it. :data:`PresetConfig` is the union the config schema accepts;
a test keeps it equal to the preset table.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator

from switchyard.formats.openai_chat import MaxTokensField
from switchyard.providers.base import ProviderSettings, http_url
from switchyard.providers.openai_compatible.preset import Preset, Quirks


class PresetSettings(ProviderSettings):
    """What every preset accepts: the shared provider settings, and an override of the field
    that carries the output-token limit (the preset's by default)."""

    max_tokens_field: MaxTokensField | None = Field(
        default=None, description="max_tokens or max_completion_tokens; the preset's by default"
    )

    def api_url(self, preset: Preset, path: str, model: str | None) -> str:
        """The URL of an API ``path`` (``/chat/completions``) for upstream ``model``."""
        base = (self.base_url or preset.base_url or "").rstrip("/")
        if preset.api_prefix and not base.endswith(preset.api_prefix):
            base += preset.api_prefix
        return base + path

    def effective_quirks(self, quirks: Quirks) -> Quirks:
        """The preset's quirks as these settings adjust them (``max_tokens_field``)."""
        if self.max_tokens_field is None:
            return quirks
        return dataclasses.replace(quirks, max_tokens_field=self.max_tokens_field)


class OpenRouterSettings(PresetSettings):
    type: Literal["openrouter"] = "openrouter"
    http_referer: str | None = Field(
        default=None, description="your app's URL, sent as HTTP-Referer (app attribution)"
    )
    x_title: str | None = Field(default=None, description="your app's name, sent as X-Title")


class DeepSeekSettings(PresetSettings):
    type: Literal["deepseek"] = "deepseek"


class MistralSettings(PresetSettings):
    type: Literal["mistral"] = "mistral"


class GroqSettings(PresetSettings):
    type: Literal["groq"] = "groq"


class TogetherSettings(PresetSettings):
    type: Literal["together"] = "together"


class AzureOpenAISettings(PresetSettings):
    """Azure OpenAI: a resource ``endpoint`` and an ``api_version``.

    A dated ``api_version`` sends each request to a deployment:
    ``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...``, where
    ``deployment`` defaults to the request's model (the gateway deployment's ``model`` is the
    Azure deployment name). ``api_version: v1`` uses Azure's v1 API instead,
    ``{endpoint}/openai/v1/chat/completions``, which takes the deployment name as ``model``
    and no ``api-version``. The key goes in the ``api-key`` header.

    ``max_completion_tokens`` and ``stream_options`` (usage on streams) arrived in
    ``2024-09-01-preview``; the GA ``2024-10-21`` spec has neither. The default is the preview
    the recorded Azure traffic uses; with a GA or an older version the adapter sends
    ``max_tokens`` and no ``stream_options`` (streams then report no usage).
    """

    type: Literal["azure_openai"] = "azure_openai"
    endpoint: str = Field(description="https://{resource}.openai.azure.com")
    deployment: str | None = Field(
        default=None, description="the deployment every request goes to; default: the model"
    )
    api_version: str = Field(default="2024-12-01-preview", description="a dated version, or v1")

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_a_url(cls, value: str) -> str:
        return http_url(value) or value

    @model_validator(mode="after")
    def _no_base_url(self) -> AzureOpenAISettings:
        if self.base_url is not None:
            raise ValueError("base_url is not used by azure_openai: set endpoint instead")
        return self

    def api_url(self, preset: Preset, path: str, model: str | None) -> str:
        root = self.endpoint.rstrip("/")
        if self.api_version == "v1":
            return f"{root}/openai/v1{path}"
        query = f"?api-version={quote(self.api_version, safe='')}"
        if model is None:  # a resource-level call (the model list), whatever the deployment
            return f"{root}/openai{path}{query}"
        deployment = self.deployment or model
        return f"{root}/openai/deployments/{quote(deployment, safe='')}{path}{query}"

    def effective_quirks(self, quirks: Quirks) -> Quirks:
        if not self.has_current_chat_fields():
            quirks = dataclasses.replace(
                quirks, max_tokens_field="max_tokens", stream_usage_option=False
            )
        return super().effective_quirks(quirks)

    def has_current_chat_fields(self) -> bool:
        """Whether the version knows ``max_completion_tokens`` and ``stream_options``: v1,
        and previews from ``2024-09-01-preview`` on."""
        version = self.api_version
        return version == "v1" or (version.endswith("-preview") and version >= "2024-09-01")


class VllmSettings(PresetSettings):
    type: Literal["vllm"] = "vllm"
    probe_by_default: ClassVar[bool] = True  # self-hosted
    base_url: str = Field(description="the server's OpenAI API base, e.g. http://host:8000/v1")


class HuggingFaceSettings(PresetSettings):
    """Hugging Face's router (Inference Providers); ``api_key`` is an HF token. A model may
    name its provider or policy: ``meta-llama/Llama-3.3-70B-Instruct:fastest``."""

    type: Literal["huggingface"] = "huggingface"


class TgiSettings(PresetSettings):
    """A text-generation-inference server (self-hosted, or an Inference Endpoint with an HF
    token as ``api_key``): ``base_url`` is its root, ``/v1`` is added when missing."""

    type: Literal["tgi"] = "tgi"
    base_url: str = Field(description="the TGI server, e.g. http://127.0.0.1:8080")


PresetConfig = (
    OpenRouterSettings
    | DeepSeekSettings
    | MistralSettings
    | GroqSettings
    | TogetherSettings
    | AzureOpenAISettings
    | VllmSettings
    | HuggingFaceSettings
    | TgiSettings
)

__all__ = [
    "AzureOpenAISettings",
    "DeepSeekSettings",
    "GroqSettings",
    "HuggingFaceSettings",
    "MistralSettings",
    "OpenRouterSettings",
    "PresetConfig",
    "PresetSettings",
    "TgiSettings",
    "TogetherSettings",
    "VllmSettings",
]
