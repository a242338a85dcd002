"""Canonical types <-> the OpenAI-style dicts of llama.cpp's server. Pure: no model, no I/O.

Requests always go out as streams (``stream: true`` with usage in the last chunk): even
``chat()`` consumes a stream, so a cancelled or timed-out call can stop generation mid-way.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    SwitchyardError,
    UpstreamProtocolError,
    error_for_status,
)
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    FilePart,
    FinishReason,
    ImagePart,
    Message,
    ResponseFormat,
    ToolCallDelta,
    Usage,
)
from switchyard.types.assembly import assemble

# Keys the adapter owns: ``extra`` may add llama.cpp sampling options (top_k, min_p,
# repeat_penalty, ...) but not replace these.
_RESERVED = frozenset({"messages", "stream", "stream_options", "n"})
_FINISH_REASONS: frozenset[str] = frozenset(
    {"stop", "length", "tool_calls", "content_filter", "error"}
)


def to_llama_request(
    request: ChatRequest, *, default_max_tokens: int, allow_tools: bool
) -> dict[str, Any]:
    """The llama.cpp ``/v1/chat/completions`` body for a canonical request."""
    if not request.messages:
        raise InvalidRequest("messages must not be empty", param="messages")
    if request.n is not None and request.n != 1:
        raise InvalidRequest("the local model returns one choice (n=1)", param="n")
    body: dict[str, Any] = {
        "messages": [convert_message(m) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": request.max_tokens or default_max_tokens,
    }
    optional = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop or None,
        "seed": request.seed,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    response_format = convert_response_format(request.response_format)
    if response_format is not None:
        body["response_format"] = response_format
    if request.tools and request.tool_choice != "none":
        if not allow_tools:
            raise InvalidRequest(
                "the local model's chat template does not support tools (set tools: true "
                "on the provider only for a GGUF whose template does)",
                param="tools",
            )
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description or "",
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
        if request.tool_choice is not None:
            body["tool_choice"] = (
                request.tool_choice
                if isinstance(request.tool_choice, str)
                else {"type": "function", "function": {"name": request.tool_choice.name}}
            )
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    for key, value in (request.extra or {}).items():
        if key in _RESERVED:
            raise InvalidRequest(f"extra may not set {key!r}", param=f"extra.{key}")
        body[key] = value
    return body


def convert_message(message: Message) -> dict[str, Any]:
    if isinstance(message.content, list) and any(
        isinstance(p, ImagePart | FilePart) for p in message.content
    ):
        raise InvalidRequest(
            "the local model does not accept images or documents", param="messages"
        )
    role = "system" if message.role == "developer" else message.role
    out: dict[str, Any] = {"role": role, "content": message.text()}
    if message.role == "assistant" and message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool" and message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def convert_response_format(response_format: ResponseFormat | None) -> dict[str, Any] | None:
    """llama.cpp turns ``json_object`` and ``json_schema`` into a sampling grammar."""
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type == "json_object" or response_format.json_schema is None:
        return {"type": "json_object"}
    spec = response_format.json_schema
    schema: dict[str, Any] = {"name": spec.name, "schema": spec.schema_ or {}}
    if spec.description is not None:
        schema["description"] = spec.description
    if spec.strict is not None:
        schema["strict"] = spec.strict
    return {"type": "json_schema", "json_schema": schema}


def usage_from(raw: dict[str, Any]) -> Usage:
    details = raw.get("prompt_tokens_details") or {}
    return Usage(
        input_tokens=int(raw.get("prompt_tokens") or 0),
        output_tokens=int(raw.get("completion_tokens") or 0),
        cached_input_tokens=int(details.get("cached_tokens") or 0),
    )


def error_from(raw: dict[str, Any]) -> SwitchyardError:
    """The taxonomy error for llama.cpp's ``{"error": {"code", "message", "type"}}``."""
    message = str(raw.get("message") or "llama.cpp reported an error")
    if raw.get("type") == "exceed_context_size_error":
        return ContextLengthExceeded(message, param="messages", upstream_status=400)
    try:
        status = int(raw.get("code") or 500)
    except (TypeError, ValueError):
        status = 500
    return error_for_status(status, message, provider=None)


class ChunkTranslator:
    """Turns llama.cpp stream chunks into canonical :class:`ChatChunk` objects.

    llama.cpp sends the finish reason and the usage in two separate chunks; the caller gets one
    final chunk carrying both, from :meth:`finish`.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = "local"
        self.created = int(time.time())
        self.fingerprint: str | None = None
        self.finish_reason: FinishReason | None = None
        self.usage: Usage | None = None
        self._role_sent = False

    def feed(self, raw: dict[str, Any]) -> list[ChatChunk]:
        if "error" in raw:
            error = raw["error"]
            raise error_from(error if isinstance(error, dict) else {"message": str(error)})
        self.id = str(raw.get("id") or self.id)
        self.created = int(raw.get("created") or self.created)
        self.fingerprint = raw.get("system_fingerprint") or self.fingerprint
        if isinstance(raw.get("usage"), dict):
            self.usage = usage_from(raw["usage"])
        out: list[ChatChunk] = []
        for choice in raw.get("choices") or []:
            delta = choice.get("delta") or {}
            text = delta.get("content") or None
            reasoning = delta.get("reasoning_content") or None
            calls = [_tool_call_delta(c) for c in delta.get("tool_calls") or []] or None
            if text is not None or reasoning is not None or calls is not None:
                out.append(self._chunk(text=text, reasoning=reasoning, tool_calls=calls))
            reason = choice.get("finish_reason")
            if reason:
                self.finish_reason = reason if reason in _FINISH_REASONS else "stop"
        return out

    def finish(self) -> ChatChunk:
        """The last chunk: finish reason and usage. Raises when the stream was cut short."""
        if self.finish_reason is None:
            raise UpstreamProtocolError("llama.cpp ended the stream without a finish reason")
        return self._chunk(finish_reason=self.finish_reason, usage=self.usage or Usage())

    def _chunk(self, **fields: Any) -> ChatChunk:
        role = None if self._role_sent else "assistant"
        self._role_sent = True
        return ChatChunk(
            id=self.id,
            created=self.created,
            model=self.model,
            role=role,
            system_fingerprint=self.fingerprint,
            **fields,
        )


def _tool_call_delta(raw: dict[str, Any]) -> ToolCallDelta:
    function = raw.get("function") or {}
    return ToolCallDelta(
        index=int(raw.get("index") or 0),
        id=raw.get("id"),
        name=function.get("name"),
        arguments=function.get("arguments"),
    )


def collect(chunks: Iterable[ChatChunk], *, model: str, provider: str) -> ChatResponse:
    """One response from a whole stream of canonical chunks (the last carries finish/usage)."""
    whole = assemble(chunks)
    last = whole.last
    if last is None:
        raise UpstreamProtocolError("llama.cpp returned no chunks")
    return ChatResponse(
        id=last.id,
        created=last.created,
        model=model,
        provider=provider,
        choices=[Choice(message=whole.message, finish_reason=last.finish_reason or "stop")],
        usage=last.usage or Usage(),
        system_fingerprint=last.system_fingerprint,
    )


__all__ = [
    "ChunkTranslator",
    "collect",
    "convert_message",
    "convert_response_format",
    "error_from",
    "to_llama_request",
    "usage_from",
]
