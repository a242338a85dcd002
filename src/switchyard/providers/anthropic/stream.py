"""Anthropic's streamed events -> canonical chunks, one :class:`StreamTranslator` per stream.

The events are read with the wire models of :mod:`switchyard.formats.anthropic_messages`
(which lists them): ``message_start``, the content block events, ``message_delta`` and
``message_stop``; ``ping`` may come at any time and ``error`` ends a stream that already
answered 200.

The translator's state is small and explicit, so a recorded stream replays to the same chunks:

- every chunk carries the message id from ``message_start`` (one id per stream) and its model;
- the role rides on the first chunk that has something to say, so a stream that fails before
  its first content block (an ``overloaded_error`` event) fails before any chunk;
- Anthropic's block ``index`` counts text and thinking blocks too; tool calls get their own
  canonical index 0, 1, ... in order of appearance, and their ``arguments`` are the
  ``partial_json`` pieces exactly as sent (``{}`` for a call whose input came with no pieces);
- thinking text is ``ChatChunk.reasoning``, a thinking block's signature
  ``ChatChunk.signature`` and a ``redacted_thinking`` block's data
  ``ChatChunk.redacted_thinking`` (the Anthropic door relays them as they came); citations,
  server-tool blocks, and unknown event or delta types are skipped;
- ``message_stop`` gives the last chunk: the finish reason (see :mod:`.reply`) and the usage;
  a JSON-mode reply is checked there (see :mod:`.json_mode`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from switchyard.errors import ProviderUnavailable, UpstreamProtocolError, protocol_error
from switchyard.formats.anthropic_messages import CONTENT_EVENTS, WireEvent, WireUsage
from switchyard.providers.anthropic.errors import map_error_payload
from switchyard.providers.anthropic.json_mode import check_json_reply, wants_json
from switchyard.providers.anthropic.reply import decode_object, finish_from_anthropic
from switchyard.streaming.sse import SseEvent
from switchyard.types import ChatChunk, ResponseFormat, ToolCallDelta


@dataclass(slots=True)
class _OpenToolCall:
    index: int  # canonical: counts tool calls only
    initial: str  # the JSON of the block's starting ``input``, "" when empty
    has_arguments: bool = False


class StreamTranslator:
    """``feed`` each SSE event, ``finish`` when the bytes end; both are pure."""

    def __init__(
        self,
        provider: str,
        *,
        created: int,
        response_format: ResponseFormat | None = None,
    ) -> None:
        self.provider = provider
        self.created = created
        self.id = ""
        self.model = ""
        self.done = False  # message_stop seen: nothing more to read
        self._started = False
        self._role_sent = False
        self._tool_calls: dict[int, _OpenToolCall] = {}  # Anthropic block index -> call
        self._usage = WireUsage()
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None
        self._json_format = response_format if wants_json(response_format) else None
        self._text: list[str] = []  # kept only to check a JSON-mode reply

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        """The chunks one event gives; raises the mapped error for an ``error`` event and
        ``UpstreamProtocolError`` for one that cannot be read."""
        if not event.data.strip() or self.done:
            return []
        payload = decode_object(event.data, self.provider)
        kind = payload.get("type", event.event)
        if kind == "error" or event.event == "error":
            raise map_error_payload(payload, self.provider)
        if kind != "message_start" and kind not in CONTENT_EVENTS:
            return []  # ping, and event types newer than this code
        try:
            wire = WireEvent.model_validate(payload)
        except ValidationError as exc:
            raise protocol_error(f"{kind} event", exc, self.provider) from exc
        if kind == "message_start":
            return self._message_start(wire)
        if not self._started:
            raise UpstreamProtocolError(
                f"stream sent {kind} before message_start", provider=self.provider
            )
        if kind == "content_block_start":
            return self._block_start(wire)
        if kind == "content_block_delta":
            return self._block_delta(wire)
        if kind == "content_block_stop":
            return self._block_stop(wire)
        if kind == "message_delta":
            return self._message_delta(wire)
        return self._message_stop()

    def finish(self) -> list[ChatChunk]:
        """Called when the upstream's bytes end: a stream without ``message_stop`` was cut."""
        if not self.done:
            raise ProviderUnavailable(
                "stream ended early (no message_stop)", provider=self.provider
            )
        return []

    # -- events -------------------------------------------------------------------------------

    def _message_start(self, wire: WireEvent) -> list[ChatChunk]:
        if wire.message is None:
            raise UpstreamProtocolError("message_start without a message", provider=self.provider)
        self._started = True
        self.id = wire.message.id
        self.model = wire.message.model
        self._usage = wire.message.usage
        return []

    def _block_start(self, wire: WireEvent) -> list[ChatChunk]:
        block, index = wire.content_block, self._index(wire)
        if block is None:
            raise UpstreamProtocolError(
                "content_block_start without a content_block", provider=self.provider
            )
        if block.type == "text" and block.text:
            return [self._text_chunk(block.text)]
        if block.type == "thinking" and block.thinking:
            return [self._chunk(reasoning=block.thinking)]
        if block.type == "redacted_thinking" and block.data:
            return [self._chunk(redacted_thinking=block.data)]
        if block.type != "tool_use":
            return []
        if not block.id or not block.name:
            raise UpstreamProtocolError(
                f"tool_use block {index} without id or name", provider=self.provider
            )
        initial = orjson.dumps(block.input).decode() if block.input else ""
        call = _OpenToolCall(index=len(self._tool_calls), initial=initial)
        self._tool_calls[index] = call
        delta = ToolCallDelta(index=call.index, id=block.id, name=block.name, arguments="")
        return [self._chunk(tool_calls=[delta])]

    def _block_delta(self, wire: WireEvent) -> list[ChatChunk]:
        delta, index = wire.delta, self._index(wire)
        if delta is None:
            return []
        if delta.type == "text_delta" and delta.text:
            return [self._text_chunk(delta.text)]
        if delta.type == "thinking_delta" and delta.thinking:
            return [self._chunk(reasoning=delta.thinking)]
        if delta.type == "signature_delta" and delta.signature:
            return [self._chunk(signature=delta.signature)]
        call = self._tool_calls.get(index)
        if delta.type == "input_json_delta" and delta.partial_json and call is not None:
            call.has_arguments = True
            piece = ToolCallDelta(index=call.index, arguments=delta.partial_json)
            return [self._chunk(tool_calls=[piece])]
        return []  # citations_delta, server tools' input, newer types

    def _block_stop(self, wire: WireEvent) -> list[ChatChunk]:
        call = self._tool_calls.get(self._index(wire))
        if call is None or call.has_arguments:
            return []
        call.has_arguments = True
        piece = ToolCallDelta(index=call.index, arguments=call.initial or "{}")
        return [self._chunk(tool_calls=[piece])]

    def _message_delta(self, wire: WireEvent) -> list[ChatChunk]:
        if wire.delta is not None and wire.delta.stop_reason is not None:
            self._stop_reason = wire.delta.stop_reason
            self._stop_sequence = wire.delta.stop_sequence
        if wire.usage is not None:
            self._usage = self._usage.updated(wire.usage)
        return []

    def _message_stop(self) -> list[ChatChunk]:
        self.done = True
        finish = finish_from_anthropic(self._stop_reason)
        if self._json_format is not None and finish == "stop":
            check_json_reply("".join(self._text), self._json_format, self.provider)
        usage = self._usage.canonical()
        return [self._chunk(finish_reason=finish, stop_sequence=self._stop_sequence, usage=usage)]

    # -- helpers ------------------------------------------------------------------------------

    def _index(self, wire: WireEvent) -> int:
        if wire.index is None:
            raise UpstreamProtocolError(
                f"{wire.type} event without an index", provider=self.provider
            )
        return wire.index

    def _text_chunk(self, text: str) -> ChatChunk:
        if self._json_format is not None:
            self._text.append(text)
        return self._chunk(text=text)

    def _chunk(self, **fields: Any) -> ChatChunk:
        if not self._role_sent:
            self._role_sent = True
            fields["role"] = "assistant"
        return ChatChunk(id=self.id, created=self.created, model=self.model, **fields)


__all__ = ["StreamTranslator"]
