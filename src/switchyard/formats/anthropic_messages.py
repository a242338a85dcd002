"""Anthropic's Messages API (``POST /v1/messages``) on the wire: the reply, its usage and
content blocks, the streamed events, the stop reasons and the model-list page.

Pure pydantic models that ignore what we do not use, so a body that lacks what we need fails
validation once (callers turn that into ``UpstreamProtocolError``), never as a ``KeyError``. The
``anthropic`` adapter reads upstream replies with them; a front door speaking Messages writes
its own canonical -> wire translation and reuses them. Error bodies are in
:mod:`.anthropic_errors`.

Streamed events, per Anthropic's streaming reference: ``message_start`` (the message's id,
model and input usage), then per content block ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``input_json_delta``, ``thinking_delta``,
``signature_delta``, ...) / ``content_block_stop``, then ``message_delta`` (stop reason,
cumulative usage) and ``message_stop``; ``ping`` may come at any time and ``error`` ends a
stream that already answered 200.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchyard.types import FinishReason, Usage

# stop_reason -> the canonical finish reason (anything else is "stop").
FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# The canonical finish reason -> the stop_reason a Messages client reads: the reverse of
# FINISH_REASONS, each reason from its first (most common) source; "error" is not a stop reason.
STOP_REASONS: dict[FinishReason, str] = {
    finish: stop for stop, finish in reversed(FINISH_REASONS.items())
}

# The event types after ``message_start`` that carry content, a stop reason or the end.
CONTENT_EVENTS = frozenset(
    {
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    }
)


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WireOutputDetails(Wire):
    thinking_tokens: int | None = None


class WireUsage(Wire):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens_details: WireOutputDetails | None = None

    def updated(self, later: WireUsage) -> WireUsage:
        """These counts with the ones ``later`` reports (a ``message_delta``'s are
        cumulative) taking their place."""
        merged = {**self.model_dump(exclude_none=True), **later.model_dump(exclude_none=True)}
        return WireUsage.model_validate(merged)

    def canonical(self) -> Usage:
        """Anthropic's ``input_tokens`` excludes the prompt tokens written to or read from the
        cache: canonical ``input_tokens`` adds them back, ``cached_input_tokens`` is
        ``cache_read_input_tokens`` and ``cache_write_input_tokens`` is
        ``cache_creation_input_tokens``."""
        cache_read = self.cache_read_input_tokens or 0
        details = self.output_tokens_details
        return Usage(
            input_tokens=(self.input_tokens or 0)
            + (self.cache_creation_input_tokens or 0)
            + cache_read,
            output_tokens=self.output_tokens or 0,
            cached_input_tokens=cache_read,
            reasoning_tokens=(details.thinking_tokens or 0) if details else 0,
            cache_write_input_tokens=self.cache_creation_input_tokens or 0,
        )


class WireBlock(Wire):
    type: str
    text: str | None = None
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None  # a redacted_thinking block's
    id: str | None = None
    name: str | None = None
    input: Any = None


class WireMessage(Wire):
    id: str
    model: str = ""
    content: list[WireBlock]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: WireUsage = Field(default_factory=WireUsage)


class WireDelta(Wire):
    type: str | None = None
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None
    signature: str | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None


class WireEvent(Wire):
    type: str
    message: WireMessage | None = None
    index: int | None = None
    content_block: WireBlock | None = None
    delta: WireDelta | None = None
    usage: WireUsage | None = None


class WireModelEntry(Wire):
    id: str


class WireModelPage(Wire):
    data: list[WireModelEntry]
    has_more: bool = False
    last_id: str | None = None


__all__ = [
    "CONTENT_EVENTS",
    "FINISH_REASONS",
    "STOP_REASONS",
    "Wire",
    "WireBlock",
    "WireDelta",
    "WireEvent",
    "WireMessage",
    "WireModelEntry",
    "WireModelPage",
    "WireOutputDetails",
    "WireUsage",
]
