"""What every door's streamed chat answer shares: opening the stream (failover happens there,
before any byte is sent), the ``text/event-stream`` response and its headers, and the relay
that writes each chunk in the door's framing, one write per chunk.

A door supplies its :class:`Framing`: the bytes of a chunk, of a normal end (OpenAI's
``[DONE]``, Anthropic's ``message_delta`` and ``message_stop``, the native ``event: done``)
and of a failure after the first byte (an error event: the upstream broke, the drain deadline
cut the stream, or a bug, which is logged and shown as ``internal_error``); an event with a
name is :func:`named_event`. A client that leaves cancels the upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from switchyard.doors.drain import Drain
from switchyard.doors.errors import internal_error, shutting_down
from switchyard.doors.http import RequestContext, report_unexpected, unless_disconnected
from switchyard.errors import SwitchyardError
from switchyard.types import ChatChunk, ServedBy
from switchyard.types.stream import ChunkStream

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def named_event(name: bytes, payload: dict[str, Any]) -> bytes:
    """One SSE event with an ``event:`` name and a JSON ``data:`` line."""
    return b"event: " + name + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


class Framing(Protocol):
    def chunk(self, chunk: ChatChunk) -> bytes:
        """The bytes of one chunk (maybe none)."""

    def end(self) -> bytes:
        """The bytes after the last chunk of a stream that ended normally."""

    def error(self, error: SwitchyardError) -> bytes:
        """The bytes that end a stream that failed after its first byte."""


async def sse_response(
    request: Request,
    stream: ChunkStream,
    framing: Framing,
    context: RequestContext,
    drain: Drain,
    where: str,
    more_headers: Callable[[ServedBy | None], dict[str, str]] | None = None,
) -> Response:
    """Start ``stream`` (its attempts and failover, before any byte; a client that leaves
    stops it) and answer with its events. ``where`` names the stream in a bug's log line;
    ``more_headers`` gives the door's own headers once it is known who answers."""
    try:
        await unless_disconnected(request, stream.start())
    except BaseException:
        await stream.aclose()
        raise
    headers = {**SSE_HEADERS, **context.headers(stream.served_by)}
    if more_headers is not None:
        headers.update(more_headers(stream.served_by))
    if stream.cache_status is not None:
        headers["x-switchyard-cache"] = stream.cache_status
    if stream.cache_similarity is not None:
        headers["x-switchyard-cache-similarity"] = f"{stream.cache_similarity:.4f}"
    return StreamingResponse(
        _relay(stream, framing, context, drain, where),
        media_type="text/event-stream",
        headers=headers,
    )


async def _relay(
    stream: ChunkStream, framing: Framing, context: RequestContext, drain: Drain, where: str
) -> AsyncIterator[bytes]:
    task = drain.enter()
    failure: SwitchyardError | None = None
    try:
        async for chunk in stream:
            data = framing.chunk(chunk)
            if data:
                yield data
    except SwitchyardError as error:
        failure = error
    except asyncio.CancelledError:
        if not drain.was_cut(task):
            raise
        failure = shutting_down()
    except Exception as exc:
        report_unexpected(exc, context.request_id, where)
        failure = internal_error(context.request_id)
    finally:
        drain.leave(task)
        await stream.aclose()
    yield framing.end() if failure is None else framing.error(failure)


__all__ = ["SSE_HEADERS", "Framing", "named_event", "sse_response"]
