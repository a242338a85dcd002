"""The two framings an upstream streams in, as data: which parser reads the bytes and which
media type a request asks for (its ``accept`` header).

A parser is made per stream with the most bytes one event may take (a line of NDJSON, the
``data`` lines of one SSE event); it is incremental: ``feed`` the bytes as they arrive and get
the events they complete, ``finish`` when they end and get what was left. :data:`SSE` gives
:class:`~switchyard.streaming.sse.SseEvent`\\ s (Anthropic, OpenAI and its kin, Cohere,
Gemini); :data:`NDJSON` gives each line's parsed JSON value (Ollama).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from switchyard.streaming.ndjson import NdjsonParser
from switchyard.streaming.sse import SseEvent, SseParser

EventT = TypeVar("EventT")


class Parser(Protocol[EventT]):
    def feed(self, chunk: bytes) -> list[EventT]: ...

    def finish(self) -> list[EventT]: ...


@dataclass(frozen=True, slots=True)
class Framing(Generic[EventT]):
    parser: Callable[[int], Parser[EventT]]  # a fresh parser per stream, given the event cap
    media_type: str


SSE: Framing[SseEvent] = Framing(SseParser, "text/event-stream")
NDJSON: Framing[Any] = Framing(NdjsonParser, "application/x-ndjson")


__all__ = ["NDJSON", "SSE", "Framing", "Parser"]
