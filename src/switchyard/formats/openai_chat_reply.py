"""Reading upstream OpenAI chat-completion replies (``chat.completion`` and
``chat.completion.chunk``) into canonical :class:`ChatResponse` / :class:`ChatChunk`.

Replies are read through small pydantic models of the wire shape that ignore fields we do not
use, so a reply that lacks what we need is one ``UpstreamProtocolError``, never a ``KeyError``.
Tolerated variations of OpenAI-compatible servers: ``reasoning_content`` (DeepSeek, vLLM) or
``reasoning`` (OpenRouter, Ollama) for the reasoning text; ``content`` as an array of parts
(Mistral); a missing tool-call ``index`` in a delta (its position is used); unknown
``finish_reason`` values (read as ``stop``); usage details that are null.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchyard.errors import UpstreamProtocolError, protocol_error
from switchyard.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    FinishReason,
    Message,
    ToolCall,
    ToolCallDelta,
    Usage,
)

_FINISH_FROM_OPENAI: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
}


# -- wire models (what we read from upstreams) ------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Function(_Wire):
    name: str
    arguments: str = ""


class _ToolCall(_Wire):
    id: str = ""
    type: str = "function"
    function: _Function


class _Message(_Wire):
    content: str | list[dict[str, Any]] | None = None
    refusal: str | None = None
    tool_calls: list[_ToolCall] | None = None
    function_call: _Function | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _Choice(_Wire):
    index: int = 0
    message: _Message
    finish_reason: str | None = None


class _PromptDetails(_Wire):
    cached_tokens: int | None = None


class _CompletionDetails(_Wire):
    reasoning_tokens: int | None = None


class _Usage(_Wire):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: _PromptDetails | None = None
    completion_tokens_details: _CompletionDetails | None = None

    def canonical(self) -> Usage:
        prompt, completion = self.prompt_tokens_details, self.completion_tokens_details
        return Usage(
            input_tokens=self.prompt_tokens or 0,
            output_tokens=self.completion_tokens or 0,
            cached_input_tokens=(prompt.cached_tokens or 0) if prompt else 0,
            reasoning_tokens=(completion.reasoning_tokens or 0) if completion else 0,
        )


class _Response(_Wire):
    id: str = ""
    created: float = 0
    model: str = ""
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None
    system_fingerprint: str | None = None


class _DeltaFunction(_Wire):
    name: str | None = None
    arguments: str | None = None


class _DeltaToolCall(_Wire):
    index: int | None = None
    id: str | None = None
    function: _DeltaFunction | None = None


class _Delta(_Wire):
    role: str | None = None
    content: str | list[dict[str, Any]] | None = None
    refusal: str | None = None
    tool_calls: list[_DeltaToolCall] | None = None
    function_call: _DeltaFunction | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _ChunkChoice(_Wire):
    index: int = 0
    delta: _Delta | None = None
    finish_reason: str | None = None


class _Chunk(_Wire):
    id: str = ""
    created: float = 0
    model: str = ""
    choices: list[_ChunkChoice] | None = None
    usage: _Usage | None = None
    system_fingerprint: str | None = None


# -- upstream -> canonical --------------------------------------------------------------------


def response_from_openai(body: dict[str, Any], provider: str) -> ChatResponse:
    """A ``chat.completion`` body as a canonical response; malformed -> UpstreamProtocolError.

    Tool-call ``arguments`` are kept as the exact text the upstream sent.
    """
    try:
        wire = _Response.model_validate(body)
    except ValidationError as exc:
        raise protocol_error("chat completion", exc, provider) from exc
    choices: list[Choice] = []
    for choice in wire.choices:
        message = choice.message
        text, reasoning = _text_and_reasoning(message.content, message)
        tool_calls = [_tool_call(call, choice.index, provider) for call in message.tool_calls or ()]
        if message.function_call is not None:
            function = message.function_call
            tool_calls.append(
                ToolCall(
                    id=f"call_{choice.index}", name=function.name, arguments=function.arguments
                )
            )
        choices.append(
            Choice(
                index=choice.index,
                message=Message(
                    role="assistant",
                    content=text,
                    tool_calls=tool_calls or None,
                    reasoning=reasoning,
                    refusal=message.refusal,
                ),
                finish_reason=_finish_from_openai(choice.finish_reason),
            )
        )
    return ChatResponse(
        id=wire.id,
        created=int(wire.created),
        model=wire.model,
        provider=provider,
        choices=choices,
        usage=wire.usage.canonical() if wire.usage is not None else Usage(),
        system_fingerprint=wire.system_fingerprint,
    )


def chunks_from_openai(body: dict[str, Any]) -> list[ChatChunk]:
    """A ``chat.completion.chunk`` as canonical chunks: one per choice, usage on the last.

    A chunk that carries nothing (no choices, no usage; Azure's prompt-filter preamble) gives
    an empty list. Tool-call deltas keep ``index``, ``id``, ``name`` and ``arguments`` pieces
    exactly as sent. Raises ``UpstreamProtocolError`` (without a provider name: the caller's
    boundary sets it) when the payload does not have a chunk's shape.
    """
    return _chunks(_parse_chunk(body))


def chunk_from_openai(body: dict[str, Any]) -> ChatChunk:
    """One ``chat.completion.chunk`` as one canonical chunk (see :func:`chunks_from_openai`,
    which also handles several choices per chunk); an empty chunk gives an empty ChatChunk."""
    wire = _parse_chunk(body)
    chunks = _chunks(wire)
    if len(chunks) > 1:
        raise UpstreamProtocolError("a chunk with several choices needs chunks_from_openai")
    if chunks:
        return chunks[0]
    return ChatChunk(id=wire.id, created=int(wire.created), model=wire.model)


def _parse_chunk(body: dict[str, Any]) -> _Chunk:
    try:
        return _Chunk.model_validate(body)
    except ValidationError as exc:
        raise protocol_error("chat completion chunk", exc, None) from exc


def _chunks(wire: _Chunk) -> list[ChatChunk]:
    created = int(wire.created)
    chunks: list[ChatChunk] = []
    for choice in wire.choices or ():
        delta = choice.delta or _EMPTY_DELTA
        text, reasoning = _text_and_reasoning(delta.content, delta)
        chunks.append(
            ChatChunk(
                id=wire.id,
                created=created,
                model=wire.model,
                index=choice.index,
                role="assistant" if delta.role == "assistant" else None,
                text=text,
                reasoning=reasoning,
                refusal=delta.refusal,
                tool_calls=_tool_call_deltas(delta),
                finish_reason=_finish_from_openai(choice.finish_reason),
                system_fingerprint=wire.system_fingerprint,
            )
        )
    if wire.usage is not None:
        usage = wire.usage.canonical()
        if chunks:
            chunks[-1].usage = usage
        else:
            chunks.append(
                ChatChunk(
                    id=wire.id,
                    created=created,
                    model=wire.model,
                    usage=usage,
                    system_fingerprint=wire.system_fingerprint,
                )
            )
    return chunks


_EMPTY_DELTA = _Delta()


def _text_and_reasoning(
    content: str | list[dict[str, Any]] | None, message: _Message | _Delta
) -> tuple[str | None, str | None]:
    reasoning = (
        message.reasoning_content if message.reasoning_content is not None else message.reasoning
    )
    if not isinstance(content, list):
        return content, reasoning
    # Content as parts (Mistral): text parts are the answer, "thinking" parts the reasoning.
    texts: list[str] = []
    thoughts: list[str] = []
    for part in content:
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "thinking":
            for inner in part.get("thinking") or ():
                if isinstance(inner, dict) and isinstance(inner.get("text"), str):
                    thoughts.append(inner["text"])
    if thoughts:
        reasoning = (reasoning or "") + "".join(thoughts)
    return "".join(texts), reasoning


def _tool_call(call: _ToolCall, choice: int, provider: str) -> ToolCall:
    if call.type != "function":
        raise UpstreamProtocolError(
            f"unsupported tool call type {call.type!r} in choice {choice}", provider=provider
        )
    return ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments)


def _tool_call_deltas(delta: _Delta) -> list[ToolCallDelta] | None:
    if delta.tool_calls:
        return [
            ToolCallDelta(
                index=call.index if call.index is not None else position,
                id=call.id,
                name=call.function.name if call.function else None,
                arguments=call.function.arguments if call.function else None,
            )
            for position, call in enumerate(delta.tool_calls)
        ]
    if delta.function_call is not None:
        function = delta.function_call
        return [ToolCallDelta(index=0, name=function.name, arguments=function.arguments)]
    return None


def _finish_from_openai(reason: str | None) -> FinishReason | None:
    if reason is None:
        return None
    return _FINISH_FROM_OPENAI.get(reason, "stop")


__all__ = ["chunk_from_openai", "chunks_from_openai", "response_from_openai"]
