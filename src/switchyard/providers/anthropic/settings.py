"""Settings of the ``anthropic`` adapter (Anthropic's Messages API, or any server speaking it)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from switchyard.providers.base import ProviderSettings

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_API_VERSION = "2023-06-01"


class AnthropicSettings(ProviderSettings):
    """``base_url`` is the host root, as in Anthropic's SDKs; the adapter adds ``/v1/messages``
    and ``/v1/models``. The API key goes out as ``x-api-key``."""

    type: Literal["anthropic"] = "anthropic"
    base_url: str | None = DEFAULT_BASE_URL
    anthropic_version: str = Field(
        default=DEFAULT_API_VERSION, description="the anthropic-version header"
    )
    beta: list[str] = Field(
        default_factory=list,
        description="anthropic-beta feature names sent with every request (comma-joined)",
    )
    default_max_tokens: int | None = Field(
        default=None,
        ge=1,
        description=(
            "max_tokens sent when the caller gives none (the API requires it); by default the "
            "model's max_output_tokens from the catalog, else 4096"
        ),
    )


__all__ = ["DEFAULT_API_VERSION", "DEFAULT_BASE_URL", "AnthropicSettings"]
