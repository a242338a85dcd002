"""Canonical answers -> Anthropic's ``Message`` object, its usage and stop reasons (pure).

- content, in the order Anthropic gives it: the thinking blocks (``Message.thinking``, with
  their signatures, and ``redacted_thinking``; or, from an upstream that has only reasoning
  text, one ``thinking`` block with an empty signature), the text, then one ``tool_use`` block
  per tool call whose ``input`` is the call's JSON text written as it is (byte for byte what
  the upstream sent), ``{}`` when that text is not a JSON object;
- ``stop_reason`` by :data:`~switchyard.formats.anthropic_messages.STOP_REASONS` (``stop``
  -> ``end_turn``, ``length`` -> ``max_tokens``, ``tool_calls`` -> ``tool_use``,
  ``content_filter`` -> ``refusal``), or ``stop_sequence`` with the sequence when the answer
  says which one matched (an Anthropic upstream does; else ``stop_sequence`` is null);
- usage: canonical ``input_tokens`` counts the prompt-cache reads and writes, Anthropic's
  does not: ``input_tokens`` = input - cached - cache written, ``cache_read_input_tokens`` =
  cached, ``cache_creation_input_tokens`` = cache written.
"""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.formats.anthropic_messages import STOP_REASONS
from switchyard.types import ChatResponse, FinishReason, Message, ThinkingBlock, ToolCall, Usage

Block = dict[str, Any]


def response_to_anthropic(response: ChatResponse) -> dict[str, Any]:
    choice = response.choices[0]
    message = choice.message
    return {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content_blocks(message),
        "stop_reason": stop_reason(
            choice.finish_reason, bool(message.tool_calls), choice.stop_sequence
        ),
        "stop_sequence": choice.stop_sequence,
        "usage": usage_to_anthropic(response.usage),
    }


def content_blocks(message: Message) -> list[Block]:
    blocks: list[Block] = []
    if message.thinking:
        blocks.extend(thinking_block(block) for block in message.thinking)
    elif message.reasoning:
        blocks.append({"type": "thinking", "thinking": message.reasoning, "signature": ""})
    text = message.text()
    if text or not (blocks or message.tool_calls):
        blocks.append({"type": "text", "text": text})
    blocks.extend(_tool_use(call) for call in message.tool_calls or ())
    return blocks


def thinking_block(block: ThinkingBlock) -> Block:
    if block.type == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.data or ""}
    return {"type": "thinking", "thinking": block.thinking, "signature": block.signature or ""}


def _tool_use(call: ToolCall) -> Block:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call)}


def tool_input(call: ToolCall) -> Any:
    """The call's arguments as the ``input`` object: its own text (an ``orjson.Fragment``,
    written as it is) when that is a JSON object, else ``{}``."""
    text = call.arguments.strip()
    if not text.startswith("{"):
        return {}
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return orjson.Fragment(text) if isinstance(parsed, dict) else {}


def stop_reason(
    finish: FinishReason | None, called_tools: bool = False, stop_sequence: str | None = None
) -> str:
    if stop_sequence is not None:
        return "stop_sequence"
    if finish is None or finish == "error":
        return "tool_use" if called_tools else "end_turn"
    return STOP_REASONS.get(finish, "end_turn")


def usage_to_anthropic(usage: Usage | None) -> dict[str, int]:
    usage = usage or Usage()
    cached, written = usage.cached_input_tokens, usage.cache_write_input_tokens
    return {
        "input_tokens": max(usage.input_tokens - cached - written, 0),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "output_tokens": usage.output_tokens,
    }


__all__ = [
    "content_blocks",
    "response_to_anthropic",
    "stop_reason",
    "thinking_block",
    "tool_input",
    "usage_to_anthropic",
]
