"""Settings of the ``openai`` adapter (OpenAI and any OpenAI-compatible ``base_url``)."""

from __future__ import annotations

from typing import Literal

from switchyard.providers.base import ProviderSettings


class OpenAISettings(ProviderSettings):
    type: Literal["openai"] = "openai"
    base_url: str | None = "https://api.openai.com/v1"
    organization: str | None = None
    project: str | None = None


__all__ = ["OpenAISettings"]
