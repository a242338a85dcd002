"""Anthropic replies -> canonical: a ``message`` body, usage, stop reasons, the model list.

Read through the wire models of :mod:`switchyard.formats.anthropic_messages`, so a reply that
lacks what we need is one ``UpstreamProtocolError``, never a ``KeyError``.

- text blocks joined are the message text; ``thinking`` blocks joined are
  ``Message.reasoning``, and ``thinking`` and ``redacted_thinking`` blocks are kept whole, in
  order, in ``Message.thinking`` (signatures included, for the Anthropic door to return);
  server-tool blocks are left out;
- ``tool_use`` blocks are tool calls whose ``arguments`` are the exact text of the ``input``
  object the upstream sent (see :mod:`.raw_json`);
- usage: Anthropic's ``input_tokens`` excludes the prompt tokens written to or read from the
  cache, so canonical ``input_tokens`` = ``input_tokens + cache_creation_input_tokens +
  cache_read_input_tokens`` and ``cached_input_tokens`` = ``cache_read_input_tokens``;
  ``reasoning_tokens`` = ``output_tokens_details.thinking_tokens`` when reported;
- stop reasons: ``end_turn``, ``stop_sequence``, ``pause_turn`` -> ``stop``; ``max_tokens``,
  ``model_context_window_exceeded`` -> ``length``; ``tool_use`` -> ``tool_calls``;
  ``refusal`` -> ``content_filter``; anything else -> ``stop``.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from switchyard.errors import UpstreamProtocolError, protocol_error
from switchyard.formats.anthropic_messages import FINISH_REASONS, WireMessage, WireModelPage
from switchyard.formats.json_body import parse_json
from switchyard.providers.anthropic.errors import map_error_payload
from switchyard.providers.anthropic.raw_json import member_texts
from switchyard.types import (
    ChatResponse,
    Choice,
    FinishReason,
    Message,
    ThinkingBlock,
    ToolCall,
)


def finish_from_anthropic(stop_reason: str | None) -> FinishReason:
    return FINISH_REASONS.get(stop_reason or "", "stop")


def response_from_anthropic(body: bytes, provider: str, *, created: int) -> ChatResponse:
    """A 2xx ``POST /v1/messages`` body as a canonical response (``created``: Anthropic sends
    no timestamp). An error payload raises its mapped error; anything unreadable raises
    ``UpstreamProtocolError``."""
    payload = decode_object(body, provider)
    if payload.get("type") == "error":
        raise map_error_payload(payload, provider)
    try:
        wire = WireMessage.model_validate(payload)
    except ValidationError as exc:
        raise protocol_error("message", exc, provider) from exc
    texts: list[str] = []
    thoughts: list[str] = []
    thinking: list[ThinkingBlock] = []
    calls: list[ToolCall] = []
    raw_inputs = _raw_inputs(body, wire) if any(b.type == "tool_use" for b in wire.content) else []
    for position, block in enumerate(wire.content):
        if block.type == "text" and block.text is not None:
            texts.append(block.text)
        elif block.type == "thinking" and block.thinking is not None:
            thoughts.append(block.thinking)
            thinking.append(ThinkingBlock(thinking=block.thinking, signature=block.signature))
        elif block.type == "redacted_thinking" and block.data is not None:
            thinking.append(ThinkingBlock(type="redacted_thinking", data=block.data))
        elif block.type == "tool_use":
            if not block.id or not block.name:
                raise UpstreamProtocolError(
                    f"malformed message from upstream: content.{position}: tool_use without "
                    "id or name",
                    provider=provider,
                )
            raw = raw_inputs[position] if position < len(raw_inputs) else None
            arguments = raw if raw is not None else orjson.dumps(block.input or {}).decode()
            calls.append(ToolCall(id=block.id, name=block.name, arguments=arguments))
    message = Message(
        role="assistant",
        content="".join(texts) if texts else None,
        tool_calls=calls or None,
        reasoning="".join(thoughts) if thoughts else None,
        thinking=thinking or None,
    )
    return ChatResponse(
        id=wire.id,
        created=created,
        model=wire.model,
        provider=provider,
        choices=[
            Choice(
                message=message,
                finish_reason=finish_from_anthropic(wire.stop_reason),
                stop_sequence=wire.stop_sequence,
            )
        ],
        usage=wire.usage.canonical(),
    )


def model_page_from_anthropic(body: bytes, provider: str) -> tuple[list[str], str | None]:
    """One page of ``GET /v1/models``: the model ids and, when there are more, the id to ask
    for the next page after."""
    try:
        page = WireModelPage.model_validate(decode_object(body, provider))
    except ValidationError as exc:
        raise protocol_error("model list", exc, provider) from exc
    more = page.last_id if page.has_more else None
    return [model.id for model in page.data], more


def decode_object(data: bytes | str, provider: str) -> dict[str, Any]:
    payload = parse_json(data, provider)
    if not isinstance(payload, dict):
        raise UpstreamProtocolError("upstream reply is not a JSON object", provider=provider)
    return payload


def _raw_inputs(body: bytes, wire: WireMessage) -> list[str | None]:
    try:
        texts = member_texts(body.decode("utf-8"), "content", "input")
    except ValueError:  # orjson read it, so this is a corner the scanner does not follow
        return []
    return texts if len(texts) == len(wire.content) else []


__all__ = [
    "decode_object",
    "finish_from_anthropic",
    "model_page_from_anthropic",
    "response_from_anthropic",
]
