"""Settings of the ``gemini`` adapter (Google's Gemini Developer API)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from switchyard.providers.base import ProviderSettings

# Google's documented value for a functionCall part whose real signature is not at hand
# (history written by another model, or carried through a client that keeps no signatures).
SKIP_SIGNATURE = "skip_thought_signature_validator"


class GeminiSettings(ProviderSettings):
    type: Literal["gemini"] = "gemini"
    base_url: str | None = Field(
        default="https://generativelanguage.googleapis.com",
        description="the API's host root; the adapter adds /{api_version}/models/...",
    )
    api_version: str = Field(
        default="v1beta",
        pattern=r"^v[0-9]+((alpha|beta)[0-9]*)?$",
        description="the API version path segment (v1beta, v1alpha, v1)",
    )
    replayed_thought_signature: str | None = Field(
        default=SKIP_SIGNATURE,
        description=(
            "thoughtSignature put on the first functionCall part of each model turn replayed "
            "from the history: canonical tool calls carry no signature, and Gemini 3 models "
            "refuse function calls without one; null sends none"
        ),
    )


__all__ = ["SKIP_SIGNATURE", "GeminiSettings"]
