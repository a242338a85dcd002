"""A gateway stream as the native API's events: ``chunk`` ... then ``done``.

Shared by the SSE route (``event: chunk``) and the WebSocket (``{"type": "chunk"}``); each
renders the events in its own framing and turns a failure into its own ``error`` event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from switchyard.chat_stream import ChatStream
from switchyard.doors.native.complete import chunk_to_native, done_to_native
from switchyard.types import Cost, FinishReason

EventName = Literal["chunk", "done"]


async def native_events(
    stream: ChatStream, started: float
) -> AsyncIterator[tuple[EventName, dict[str, Any]]]:
    """The stream's ``chunk`` events as they arrive, then one ``done`` event (usage, cost,
    finish reason, who answered, milliseconds since ``started``, a ``perf_counter()``).

    A failure raises out of the iteration (a :class:`~switchyard.errors.SwitchyardError`
    once the stream broke); the caller renders it and closes ``stream``."""
    stream_id = ""
    finish: FinishReason | None = None
    cost: Cost | None = None
    async for chunk in stream:
        if not stream_id:
            stream_id = chunk.id
        if chunk.finish_reason is not None:
            finish = chunk.finish_reason
        if chunk.cost is not None:
            cost = chunk.cost
        body = chunk_to_native(chunk)
        if body is not None:
            yield "chunk", body
    served = stream.served_by
    latency_ms = (time.perf_counter() - started) * 1000.0
    yield (
        "done",
        done_to_native(
            stream_id,
            served.model if served is not None else "",
            served.provider if served is not None else "",
            finish,
            stream.usage,
            cost,
            latency_ms,
        ),
    )


__all__ = ["EventName", "native_events"]
