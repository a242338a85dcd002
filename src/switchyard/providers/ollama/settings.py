"""Settings of the ``ollama`` adapter (Ollama's native API)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from switchyard.providers.base import ProviderSettings


class OllamaSettings(ProviderSettings):
    """``base_url`` is the host root, as Ollama's clients have it; the adapter adds
    ``/api/chat``, ``/api/embed``, ``/api/tags`` and ``/api/version``. A local Ollama needs no
    key; an ``api_key`` (ollama.com, or a proxy in front) is sent as ``Authorization: Bearer``.
    """

    type: Literal["ollama"] = "ollama"
    probe_by_default: ClassVar[bool] = True
    base_url: str | None = "http://127.0.0.1:11434"
    keep_alive: str | int | None = Field(
        default=None,
        description="how long Ollama keeps the model loaded after a request ('5m', seconds, -1)",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "model options sent with every request (num_ctx, top_k, ...); a request's own "
            "sampling parameters win over them"
        ),
    )


__all__ = ["OllamaSettings"]
