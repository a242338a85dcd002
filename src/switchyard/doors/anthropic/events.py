"""Canonical stream chunks -> Anthropic's streamed events, as the SSE bytes a client reads.

The sequence Anthropic's streaming reference gives, whatever upstream answered::

    message_start  (id, model, empty content, usage so far: none)
    ping
    per content block, in order: content_block_start, content_block_delta..., content_block_stop
        thinking   thinking_delta ... then signature_delta (when the upstream signed it)
        redacted_thinking   start and stop only (its data is in the start)
        text       text_delta ...
        tool_use   input_json_delta ... (the argument pieces exactly as they came)
    message_delta  (stop_reason, stop_sequence; usage: input, cache and output tokens)
    message_stop

A block ends when a chunk of another kind arrives (a thinking block also when its signature
came), or a tool call starts. A stream that fails after its first byte ends with an ``error``
event (:func:`error_event`). :class:`MessageEvents` is pure: chunks in, bytes out.
"""

from __future__ import annotations

from typing import Any, Literal

from switchyard.doors.anthropic.reply import stop_reason, usage_to_anthropic
from switchyard.doors.sse import named_event as event
from switchyard.errors import SwitchyardError
from switchyard.formats.anthropic_errors import error_to_anthropic
from switchyard.types import ChatChunk, FinishReason, Usage
from switchyard.types.principal import new_request_id

BlockKind = Literal["text", "thinking", "tool_use"]
PING = b'event: ping\ndata: {"type":"ping"}\n\n'


def error_event(error: SwitchyardError) -> bytes:
    return event(b"error", error_to_anthropic(error)[1])


class MessageEvents:
    """``chunk`` for every chunk, then ``end`` (or ``error``); each returns the bytes to send
    (maybe none): a :class:`~switchyard.doors.sse.Framing`."""

    __slots__ = (
        "_called_tools",
        "_finish",
        "_index",
        "_open",
        "_signed",
        "_started",
        "_stop_sequence",
        "_tools",
        "_usage",
        "model",
    )

    def __init__(self, model: str) -> None:
        self.model = model  # until a chunk names the upstream's
        self._started = False
        self._open: BlockKind | None = None
        self._index = -1  # the open (or last) block's
        self._signed = False  # the open thinking block has its signature
        self._tools: dict[int, int] = {}  # canonical tool call index -> block index
        self._called_tools = False
        self._finish: FinishReason | None = None
        self._stop_sequence: str | None = None
        self._usage: Usage | None = None

    def chunk(self, chunk: ChatChunk) -> bytes:
        out = b"" if self._started else self._start(chunk)
        if chunk.reasoning:
            if self._open != "thinking" or self._signed:
                out += self._begin(
                    "thinking", {"type": "thinking", "thinking": "", "signature": ""}
                )
            out += self._delta({"type": "thinking_delta", "thinking": chunk.reasoning})
        if chunk.signature:
            if self._open != "thinking" or self._signed:
                out += self._begin(
                    "thinking", {"type": "thinking", "thinking": "", "signature": ""}
                )
            out += self._delta({"type": "signature_delta", "signature": chunk.signature})
            self._signed = True
        if chunk.redacted_thinking:
            out += self._begin(None, {"type": "redacted_thinking", "data": chunk.redacted_thinking})
        if chunk.text:
            if self._open != "text":
                out += self._begin("text", {"type": "text", "text": ""})
            out += self._delta({"type": "text_delta", "text": chunk.text})
        for call in chunk.tool_calls or ():
            index = self._tools.get(call.index)
            if index is None:
                self._called_tools = True
                out += self._begin(
                    "tool_use",
                    {"type": "tool_use", "id": call.id or "", "name": call.name or "", "input": {}},
                )
                index = self._tools[call.index] = self._index
            if call.arguments:
                delta = {"type": "input_json_delta", "partial_json": call.arguments}
                out += event(
                    b"content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
        if chunk.finish_reason is not None:
            self._finish = chunk.finish_reason
            self._stop_sequence = chunk.stop_sequence
        if chunk.usage is not None:
            self._usage = chunk.usage
        return out

    def end(self) -> bytes:
        """The end of a stream that ended normally: the open block's stop, ``message_delta``,
        ``message_stop``."""
        out = b"" if self._started else self._start(None)
        out += self._close()
        delta = {
            "stop_reason": stop_reason(self._finish, self._called_tools, self._stop_sequence),
            "stop_sequence": self._stop_sequence,
        }
        usage = usage_to_anthropic(self._usage)
        out += event(b"message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
        return out + b'event: message_stop\ndata: {"type":"message_stop"}\n\n'

    def error(self, error: SwitchyardError) -> bytes:
        return error_event(error)

    # -- helpers ------------------------------------------------------------------------------

    def _start(self, chunk: ChatChunk | None) -> bytes:
        self._started = True
        if chunk is not None and chunk.model:
            self.model = chunk.model
        message: dict[str, Any] = {
            "id": chunk.id if chunk is not None and chunk.id else f"msg_{new_request_id()}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_to_anthropic(None),
        }
        return event(b"message_start", {"type": "message_start", "message": message}) + PING

    def _begin(self, kind: BlockKind | None, block: dict[str, Any]) -> bytes:
        """Close the open block and start ``block`` (``kind`` None: one with no deltas,
        stopped at once)."""
        out = self._close()
        self._index += 1
        out += event(
            b"content_block_start",
            {"type": "content_block_start", "index": self._index, "content_block": block},
        )
        self._open, self._signed = kind, False
        if kind is None:
            out += self._stop()
        return out

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return event(
            b"content_block_delta",
            {"type": "content_block_delta", "index": self._index, "delta": delta},
        )

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return self._stop()

    def _stop(self) -> bytes:
        return event(b"content_block_stop", {"type": "content_block_stop", "index": self._index})


__all__ = ["PING", "MessageEvents", "error_event", "event"]
