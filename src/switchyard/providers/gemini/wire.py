"""The shapes of Gemini's replies, as small pydantic models that ignore what we do not read.

Field names follow the REST reference (camelCase on the wire, snake_case here): a reply that
lacks what we need fails validation in one place and becomes ``UpstreamProtocolError``.
References: ai.google.dev/api/generate-content (``GenerateContentResponse``, ``Candidate``,
``UsageMetadata``, ``PromptFeedback``), ai.google.dev/api/caching#Content (``Content``,
``Part``, ``FunctionCall``), ai.google.dev/api/embeddings, ai.google.dev/api/models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from switchyard.types import Usage


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


class FunctionCall(_Wire):
    id: str | None = None  # newer models send one; older ones do not
    name: str
    args: dict[str, Any] | None = None


class Part(_Wire):
    text: str | None = None
    thought: bool | None = None
    function_call: FunctionCall | None = None
    thought_signature: str | None = None  # opaque; Gemini wants it back with the part


class Content(_Wire):
    role: str | None = None
    parts: list[Part] = Field(default_factory=list)


class Candidate(_Wire):
    index: int = 0
    content: Content | None = None
    finish_reason: str | None = None


class PromptFeedback(_Wire):
    block_reason: str | None = None
    block_reason_message: str | None = None


class UsageMetadata(_Wire):
    """Gemini's counts: ``promptTokenCount`` includes the cached part; thoughts are counted
    apart from the candidates; tool-use prompt tokens (built-in tools' results) are input."""

    prompt_token_count: int = 0
    cached_content_token_count: int = 0
    candidates_token_count: int = 0
    thoughts_token_count: int = 0
    tool_use_prompt_token_count: int = 0
    total_token_count: int = 0

    def canonical(self) -> Usage:
        """Canonical accounting: output includes reasoning (thoughts), input includes cache."""
        return Usage(
            input_tokens=self.prompt_token_count + self.tool_use_prompt_token_count,
            output_tokens=self.candidates_token_count + self.thoughts_token_count,
            cached_input_tokens=self.cached_content_token_count,
            reasoning_tokens=self.thoughts_token_count,
        )


class GenerateContentResponse(_Wire):
    """A whole reply, or one streamed chunk of it (each SSE event has this shape)."""

    candidates: list[Candidate] = Field(default_factory=list)
    prompt_feedback: PromptFeedback | None = None
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None


class ContentEmbedding(_Wire):
    values: list[float]


class EmbedContentResponse(_Wire):
    embedding: ContentEmbedding


class BatchEmbedContentsResponse(_Wire):
    embeddings: list[ContentEmbedding]


class ModelEntry(_Wire):
    name: str


class ListModelsResponse(_Wire):
    models: list[ModelEntry] = Field(default_factory=list)
    next_page_token: str | None = None


__all__ = [
    "BatchEmbedContentsResponse",
    "Candidate",
    "Content",
    "ContentEmbedding",
    "EmbedContentResponse",
    "FunctionCall",
    "GenerateContentResponse",
    "ListModelsResponse",
    "ModelEntry",
    "Part",
    "PromptFeedback",
    "UsageMetadata",
]
