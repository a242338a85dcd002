"""Settings of the ``cohere`` adapter (Cohere's v2 API)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from switchyard.providers.base import ProviderSettings

EmbedInputType = Literal["search_document", "search_query", "classification", "clustering"]


class CohereSettings(ProviderSettings):
    """``base_url`` is the host root, as Cohere's SDK has it; the adapter adds ``/v2/chat``,
    ``/v2/embed`` and ``/v1/models``."""

    type: Literal["cohere"] = "cohere"
    base_url: str | None = "https://api.cohere.com"
    embed_input_type: EmbedInputType = Field(
        default="search_document",
        description=(
            "the input_type Cohere's embed models v3 and newer require; the canonical "
            "embeddings request has no such field, so it is set per provider (configure a "
            "second provider with search_query for query embeddings)"
        ),
    )


__all__ = ["CohereSettings", "EmbedInputType"]
