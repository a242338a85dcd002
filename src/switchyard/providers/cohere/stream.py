"""Cohere v2 chat stream events -> canonical chunks (pure, replayable).

Events (https://docs.cohere.com/reference/chat-stream, .../docs/streaming and
.../docs/tool-use-streaming), each an SSE ``data`` JSON object told apart by ``type``:

- ``message-start`` (the stream's ``id``) -> the first chunk, with the assistant role;
- ``content-start`` / ``content-delta`` -> text (``delta.message.content.text``) or reasoning
  (``...content.thinking``, reasoning models); ``content-end`` carries nothing;
- ``tool-plan-delta`` -> reasoning (the plan the model writes before calling tools);
- ``tool-call-start`` -> a tool-call delta with its index, ``id``, name (and any first
  arguments); ``tool-call-delta`` -> an arguments piece, passed on exactly as sent, so the
  pieces reassemble byte for byte; ``tool-call-end`` carries nothing;
- ``message-end`` -> the finish reason and the usage (``delta.usage``); with ``finish_reason``
  ERROR it raises the error ``delta.error`` describes;
- ``citation-start`` / ``citation-end``, ``debug`` and unknown types are ignored.

:meth:`~CohereStreamTranslator.feed` takes the SSE event (its ``data`` decoded as JSON; empty
data and ``[DONE]`` are skipped); :meth:`~CohereStreamTranslator.feed_payload` the decoded
object. A stream that ends without ``message-end`` is incomplete: :meth:`finish` raises
``ProviderUnavailable``.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from switchyard.errors import ProviderUnavailable, UpstreamProtocolError, protocol_error
from switchyard.providers.cohere import wire
from switchyard.providers.cohere.errors import map_stream_error
from switchyard.providers.cohere.translate import finish_from_cohere
from switchyard.streaming.sse import SseEvent
from switchyard.types import ChatChunk, FinishReason, ToolCallDelta, Usage

# the events read through wire.StreamEvent; every other type carries nothing the gateway uses
_DELTAS = frozenset(
    {"content-start", "content-delta", "tool-plan-delta", "tool-call-start", "tool-call-delta"}
)


class CohereStreamTranslator:
    """State of one stream: its id, Cohere's tool-call index -> ours, the usage, whether it
    ended. ``model`` and ``created`` stamp every chunk (Cohere's events carry neither)."""

    def __init__(self, *, model: str, created: int, provider: str | None = None) -> None:
        self.model = model
        self.created = created
        self.provider = provider
        self.id = ""
        self.usage: Usage | None = None
        self.done = False  # message-end came
        self._calls: dict[int, int] = {}
        self._current_call: int | None = None

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        """The chunks one SSE event gives."""
        data = event.data
        if not data or data == "[DONE]":
            return []
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise UpstreamProtocolError(
                f"upstream sent a malformed stream event: {data[:200]!r}", provider=self.provider
            ) from exc
        return self.feed_payload(payload, event.event)

    def feed_payload(self, event: Any, name: str | None = None) -> list[ChatChunk]:
        """The chunks one decoded event gives; ``name`` is the SSE event name, used when the
        payload has no ``type``."""
        if not isinstance(event, dict):
            raise UpstreamProtocolError("stream event is not a JSON object", provider=self.provider)
        kind = event.get("type") or name
        if self.done:
            return []
        if kind == "message-end":
            return self._end(event)
        if kind == "error":
            message = event.get("message")
            raise map_stream_error(message if isinstance(message, str) else None, self.provider)
        if kind == "message-start":  # its delta holds empty lists (content, tool_calls): unused
            stream_id = event.get("id")
            self.id = stream_id if isinstance(stream_id, str) else self.id
            return [self._chunk(role="assistant")]
        if kind not in _DELTAS:  # content-end, tool-call-end, citation-*, debug, newer types
            return []
        try:
            parsed = wire.StreamEvent.model_validate(event)
        except ValidationError as exc:
            raise protocol_error(f"{kind} event", exc, self.provider) from exc
        message = parsed.delta.message if parsed.delta is not None else None
        if message is None:
            return []
        if kind in ("content-start", "content-delta") and message.content is not None:
            content = message.content
            if content.thinking:
                return [self._chunk(reasoning=content.thinking)]
            if content.text:
                return [self._chunk(text=content.text)]
            return []
        if kind == "tool-plan-delta" and message.tool_plan:
            return [self._chunk(reasoning=message.tool_plan)]
        if kind == "tool-call-start" and message.tool_calls is not None:
            return [self._chunk(tool_calls=[self._start_call(parsed.index, message.tool_calls)])]
        if kind == "tool-call-delta" and message.tool_calls is not None:
            function = message.tool_calls.function
            if function is None or not function.arguments:
                return []
            index = self._call_index(parsed.index)
            piece = ToolCallDelta(index=index, arguments=function.arguments)
            return [self._chunk(tool_calls=[piece])]
        return []

    def finish(self) -> list[ChatChunk]:
        """Called when the upstream stream is over: raises unless ``message-end`` came."""
        if not self.done:
            raise ProviderUnavailable(
                "the upstream stream ended before its message-end event", provider=self.provider
            )
        return []

    # -- helpers ----------------------------------------------------------------------------

    def _start_call(self, cohere_index: int | None, call: wire.ToolCall) -> ToolCallDelta:
        function = call.function
        if not call.id or function is None or not function.name:
            raise UpstreamProtocolError(
                "tool-call-start without a call id or function name", provider=self.provider
            )
        index = len(self._calls)
        self._calls[cohere_index if cohere_index is not None else -1 - index] = index
        self._current_call = index
        return ToolCallDelta(
            index=index, id=call.id, name=function.name, arguments=function.arguments or None
        )

    def _call_index(self, cohere_index: int | None) -> int:
        if cohere_index is not None and cohere_index in self._calls:
            return self._calls[cohere_index]
        if self._current_call is None:
            raise UpstreamProtocolError(
                "tool-call-delta before any tool-call-start", provider=self.provider
            )
        return self._current_call

    def _end(self, event: dict[str, Any]) -> list[ChatChunk]:
        try:
            end = wire.MessageEnd.model_validate(event)
        except ValidationError as exc:
            raise protocol_error("message-end event", exc, self.provider) from exc
        delta = end.delta or wire.EndDelta()
        finish: FinishReason = finish_from_cohere(
            delta.finish_reason, bool(self._calls), delta.error, self.provider
        )
        self.done = True
        self.usage = delta.usage.canonical() if delta.usage is not None else Usage()
        return [self._chunk(finish_reason=finish, usage=self.usage)]

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(id=self.id, created=self.created, model=self.model, **fields)


__all__ = ["CohereStreamTranslator"]
