"""A gateway stream as the native API's events: ``chunk`` ... then ``done``.

Shared by the SSE routes (``event: chunk``: :class:`NativeFrames`, for the completion stream
and a session's streamed reply) and the WebSocket (``{"type": "chunk"}``); each renders the
events in its own framing and turns a failure into its own ``error`` event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from switchyard.doors.native.complete import chunk_to_native, done_to_native
from switchyard.doors.native.error_types import error_to_native
from switchyard.doors.sse import named_event
from switchyard.errors import SwitchyardError
from switchyard.types import ChatChunk, Cost, FinishReason
from switchyard.types.stream import ChunkStream

EventName = Literal["chunk", "done"]


class NativeEvents:
    """One stream's events: :meth:`chunk` for every chunk, then :meth:`done`."""

    __slots__ = ("cost", "finish", "started", "stream", "stream_id")

    def __init__(self, stream: ChunkStream, started: float) -> None:
        self.stream = stream
        self.started = started  # a perf_counter(): when the request came
        self.stream_id = ""
        self.finish: FinishReason | None = None
        self.cost: Cost | None = None

    def chunk(self, chunk: ChatChunk) -> dict[str, Any] | None:
        """The ``chunk`` event's data, or None for a chunk with nothing new to show."""
        if not self.stream_id:
            self.stream_id = chunk.id
        if chunk.finish_reason is not None:
            self.finish = chunk.finish_reason
        if chunk.cost is not None:
            self.cost = chunk.cost
        return chunk_to_native(chunk)

    def done(self) -> dict[str, Any]:
        """The ``done`` event's data: usage, cost, finish reason, who answered, milliseconds
        since the request came."""
        served = self.stream.served_by
        latency_ms = (time.perf_counter() - self.started) * 1000.0
        return done_to_native(
            self.stream_id,
            served.model if served is not None else "",
            served.provider if served is not None else "",
            self.finish,
            self.stream.usage,
            self.cost,
            latency_ms,
        )


async def native_events(
    stream: ChunkStream, started: float
) -> AsyncIterator[tuple[EventName, dict[str, Any]]]:
    """The stream's ``chunk`` events as they arrive, then one ``done`` event.

    A failure raises out of the iteration (a :class:`~switchyard.errors.SwitchyardError`
    once the stream broke); the caller renders it and closes ``stream``."""
    events = NativeEvents(stream, started)
    async for chunk in stream:
        body = events.chunk(chunk)
        if body is not None:
            yield "chunk", body
    yield "done", events.done()


class NativeFrames:
    """The native SSE framing: ``event: chunk`` per chunk with something to show, then
    ``event: done``; ``event: error`` (then the end) when the stream fails after its first
    byte."""

    __slots__ = ("events",)

    def __init__(self, events: NativeEvents) -> None:
        self.events = events

    def chunk(self, chunk: ChatChunk) -> bytes:
        body = self.events.chunk(chunk)
        return b"" if body is None else named_event(b"chunk", body)

    def end(self) -> bytes:
        return named_event(b"done", self.events.done())

    def error(self, error: SwitchyardError) -> bytes:
        return named_event(b"error", error_to_native(error))


__all__ = ["EventName", "NativeEvents", "NativeFrames", "native_events"]
