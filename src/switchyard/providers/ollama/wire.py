"""Small pydantic models of the Ollama JSON the adapter reads (chat replies and stream lines,
embeddings, the model list, the version).

They follow ``api/types.go`` and ``docs/api.md`` of Ollama's repository (``ChatResponse``,
``Message``, ``ToolCall``, ``Metrics``, ``EmbedResponse``, ``ListResponse``) and ignore the
fields the gateway does not use (durations, logprobs, ``remote_host``), so a reply that lacks
what we need fails here, in one place.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Function(Wire):
    index: int | None = None
    name: str
    # an object on the wire (ToolCallFunctionArguments); kept as parsed
    arguments: Any = None


class ToolCall(Wire):
    id: str | None = None  # sent by Ollama 0.12.10 and newer ("call_" + 8 characters)
    function: Function


class ChatMessage(Wire):
    role: str | None = None
    content: str | None = None
    thinking: str | None = None
    tool_calls: list[ToolCall] | None = None


class ChatLine(Wire):
    """A non-streamed reply, or one line of a stream (the last has ``done: true``)."""

    model: str = ""
    created_at: str | None = None
    message: ChatMessage | None = None
    done: bool = False
    done_reason: str | None = None
    prompt_eval_count: int | None = None
    eval_count: int | None = None


class EmbedReply(Wire):
    model: str = ""
    embeddings: list[list[float]]
    prompt_eval_count: int | None = None


class Model(Wire):
    name: str


class ModelList(Wire):
    models: list[Model]


class Version(Wire):
    version: str


__all__ = [
    "ChatLine",
    "ChatMessage",
    "EmbedReply",
    "Function",
    "ModelList",
    "ToolCall",
    "Version",
]
