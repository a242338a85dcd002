"""Ollama's streamed ``/api/chat`` lines -> canonical chunks (pure, replayable).

Each NDJSON line is a chat object (``docs/api.md``, "Chat request (Streaming)" and "(Streaming
with tools)"): ``message.content`` is a text delta, ``message.thinking`` a reasoning delta,
``message.tool_calls`` whole calls (Ollama does not split a call's arguments across lines: each
call becomes one tool-call delta with its index, id, name and all its arguments, serialised by
:func:`~.translate.encode_arguments`). The last line has ``done: true`` with ``done_reason`` and
the token counts. An ``{"error": ...}`` line raises the error it describes; a stream that ends
without its ``done: true`` line raises ``ProviderUnavailable`` from :meth:`finish`.
"""

from __future__ import annotations

from typing import Any

from switchyard.errors import ProviderUnavailable
from switchyard.providers.ollama.translate import (
    finish_from_ollama,
    parse_line,
    timestamp,
    tool_call_from_ollama,
    usage_from_ollama,
)
from switchyard.types import ChatChunk, ToolCallDelta, Usage


class OllamaStreamTranslator:
    """State of one stream: its id (Ollama sends none: the caller picks it), the time and model
    of its first line, how many tool calls came so far, the usage, whether it ended."""

    def __init__(
        self, *, model: str, stream_id: str, created: int, provider: str | None = None
    ) -> None:
        self.model = model
        self.id = stream_id
        self.created = created
        self.provider = provider
        self.usage: Usage | None = None
        self.done = False  # the done line came
        self._calls = 0
        self._started = False

    def feed(self, line: Any) -> list[ChatChunk]:
        """The chunks one parsed NDJSON line gives (none after the stream has ended)."""
        if self.done:
            return []
        parsed = parse_line(line, self.provider)
        fields: dict[str, Any] = {}
        if not self._started:
            self._started = True
            self.created = timestamp(parsed.created_at) or self.created
            self.model = parsed.model or self.model
            fields["role"] = "assistant"
        message = parsed.message
        if message is not None:
            if message.content:
                fields["text"] = message.content
            if message.thinking:
                fields["reasoning"] = message.thinking
            if message.tool_calls:
                deltas = []
                for call in message.tool_calls:
                    canonical = tool_call_from_ollama(call, self._calls)
                    deltas.append(
                        ToolCallDelta(
                            index=self._calls,
                            id=canonical.id,
                            name=canonical.name,
                            arguments=canonical.arguments,
                        )
                    )
                    self._calls += 1
                fields["tool_calls"] = deltas
        if parsed.done:
            self.done = True
            self.usage = usage_from_ollama(parsed)
            fields["finish_reason"] = finish_from_ollama(parsed.done_reason, self._calls > 0)
            fields["usage"] = self.usage
        if not fields:
            return []
        return [ChatChunk(id=self.id, created=self.created, model=self.model, **fields)]

    def finish(self) -> list[ChatChunk]:
        """Called when the upstream stream is over: raises unless the ``done`` line came."""
        if not self.done:
            raise ProviderUnavailable(
                "the upstream stream ended before its done line", provider=self.provider
            )
        return []


__all__ = ["OllamaStreamTranslator"]
