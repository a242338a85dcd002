"""OpenAI's streamed chat completions -> canonical chunks, one translator per stream.

The stream is SSE: ``data: {chat.completion.chunk}`` events, then ``data: [DONE]``. Each chunk
is read by the pure codec (:func:`~switchyard.formats.openai_chat.chunks_from_openai`) after
the adapter's ``read_payload`` (a preset's quirks: its reasoning field, its finish reasons);
an ``{"error": ...}`` payload, or an ``error`` event, raises what ``map_error_payload`` says it
means. A stream that ends without ``[DONE]`` was cut: :meth:`finish` raises
``ProviderUnavailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from switchyard.errors import ProviderUnavailable, SwitchyardError, UpstreamProtocolError
from switchyard.formats.openai_chat import chunks_from_openai
from switchyard.streaming.sse import SseEvent
from switchyard.types import ChatChunk

_DONE = "[DONE]"

ReadPayload = Callable[[dict[str, Any]], dict[str, Any]]
MapErrorPayload = Callable[[Mapping[str, Any]], SwitchyardError]


class ChatCompletionsStreamTranslator:
    """``feed`` each SSE event; ``done`` once ``[DONE]`` came."""

    def __init__(
        self, provider: str, *, read_payload: ReadPayload, map_error_payload: MapErrorPayload
    ) -> None:
        self.provider = provider
        self.done = False
        self._read_payload = read_payload
        self._map_error_payload = map_error_payload

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        data = event.data
        if data == _DONE:
            self.done = True
            return []
        if not data or self.done:
            return []
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if event.event == "error":
                raise self._map_error_payload({"error": data}) from exc
            raise UpstreamProtocolError(
                f"upstream sent a malformed stream chunk: {data[:200]!r}", provider=self.provider
            ) from exc
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("stream chunk is not a JSON object", provider=self.provider)
        if event.event == "error" or "error" in payload:
            raise self._map_error_payload(payload)
        try:
            return chunks_from_openai(self._read_payload(payload))
        except UpstreamProtocolError as exc:
            exc.provider = exc.provider or self.provider
            raise

    def finish(self) -> list[ChatChunk]:
        """Called when the bytes ended: a stream without ``[DONE]`` was cut."""
        if not self.done:
            raise ProviderUnavailable("stream ended early (no [DONE])", provider=self.provider)
        return []


__all__ = ["ChatCompletionsStreamTranslator"]
