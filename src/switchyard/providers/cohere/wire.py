"""Small pydantic models of the Cohere v2 JSON the adapter reads (replies, stream events).

They ignore fields the gateway does not use, so a reply that lacks what we need fails here, in
one place, as a validation error the translators turn into ``UpstreamProtocolError``. Shapes
follow the API reference (https://docs.cohere.com/reference/chat, .../chat-stream,
.../embed, .../list-models); Cohere types its counters as numbers, so they are read as floats.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchyard.types import Usage


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Function(Wire):
    name: str | None = None
    arguments: str | None = None


class ToolCall(Wire):
    id: str | None = None
    type: str = "function"
    function: Function | None = None


class ContentItem(Wire):
    """``{"type": "text", "text"}`` or ``{"type": "thinking", "thinking"}`` (reasoning models)."""

    type: str | None = None
    text: str | None = None
    thinking: str | None = None


class AssistantMessage(Wire):
    content: list[ContentItem] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_plan: str | None = None


class Tokens(Wire):
    input_tokens: float | None = None
    output_tokens: float | None = None


class CohereUsage(Wire):
    """``tokens`` are what the model processed; ``billed_units`` what was billed (fewer, as the
    prompt template is not billed); ``cached_tokens`` the prompt tokens served from the cache."""

    billed_units: Tokens | None = None
    tokens: Tokens | None = None
    cached_tokens: float | None = None

    def canonical(self) -> Usage:
        counted = self.tokens or self.billed_units or Tokens()
        input_tokens = int(counted.input_tokens or 0)
        cached = int(self.cached_tokens or 0)
        return Usage(
            input_tokens=input_tokens,
            output_tokens=int(counted.output_tokens or 0),
            cached_input_tokens=min(cached, input_tokens),
        )


class ChatReply(Wire):
    id: str = ""
    finish_reason: str | None = None
    message: AssistantMessage
    usage: CohereUsage | None = None


# -- stream events (each SSE ``data`` is one of these, told apart by ``type``) ----------------


class EventMessage(Wire):
    role: str | None = None
    content: ContentItem | None = None
    tool_plan: str | None = None
    # a single call in tool-call-start / tool-call-delta (not a list, unlike the reply)
    tool_calls: ToolCall | None = None


class EndDelta(Wire):
    finish_reason: str | None = None
    error: str | None = None
    usage: CohereUsage | None = None


class EventDelta(Wire):
    message: EventMessage | None = None


class StreamEvent(Wire):
    """content-*, tool-plan-delta and tool-call-* events (message-start and -end differ)."""

    type: str | None = None
    index: int | None = None
    delta: EventDelta | None = None


class MessageEnd(Wire):
    type: str | None = None
    id: str | None = None
    delta: EndDelta | None = None


# -- embeddings and the model list ------------------------------------------------------------


class Embeddings(Wire):
    float_: list[list[float]] | None = Field(default=None, alias="float")


class EmbedMeta(Wire):
    billed_units: Tokens | None = None
    tokens: Tokens | None = None


class EmbedReply(Wire):
    embeddings: Embeddings
    meta: EmbedMeta | None = None


class Model(Wire):
    name: str


class ModelList(Wire):
    models: list[Model]
    next_page_token: str | None = None


__all__ = [
    "AssistantMessage",
    "ChatReply",
    "CohereUsage",
    "ContentItem",
    "EmbedReply",
    "Function",
    "MessageEnd",
    "ModelList",
    "StreamEvent",
    "ToolCall",
]
