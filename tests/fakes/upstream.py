"""A scriptable fake upstream on 127.0.0.1 for tests, in any provider's wire format.

It runs an aiohttp server on its own event loop in a background thread, so the same instance
serves async tests (an adapter in the test's loop), a gateway running in a uvicorn thread, and
synchronous SDK clients. Each request takes the next scripted :class:`Reply`, in order, whatever
its path; with nothing scripted, :meth:`FakeUpstream._default` answers (each provider's
subclass answers like its API). Every request is recorded in :attr:`FakeUpstream.requests`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import orjson
from aiohttp import web

from tests.fakes.cassettes import Cassette


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def word_pieces(text: str) -> list[str]:
    """Word-sized pieces (each but the first starting with its space) that join to ``text``,
    as the fakes stream an echo; none for an empty text."""
    words = text.split(" ")
    return [words[0], *(" " + word for word in words[1:])] if text else []


@dataclass
class Reply:
    """One scripted answer.

    ``body`` (JSON) or ``raw`` (bytes as they are) or ``sse`` (events sent one at a time,
    ``chunk_delay`` seconds apart: a string is a ``data:`` payload, an ``(event, data)`` pair
    also names the event, as Anthropic's API does) or ``ndjson`` (one JSON value per line, as
    Ollama streams). ``delay`` waits before anything is sent. ``cut_after`` drops the
    connection after that many streamed events (0: before any reply).
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None
    sse: list[str | tuple[str, str]] | None = None
    ndjson: list[Any] | None = None
    chunk_delay: float = 0.0
    cut_after: int | None = None
    delay: float = 0.0
    content_type: str | None = None

    @classmethod
    def json(
        cls,
        body: Any,
        status: int = 200,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        return cls(status=status, headers=headers or {}, body=body, delay=delay)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "scripted error",
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """An OpenAI error body: ``{"error": {message, type, param, code}}``."""
        body = {"error": {"message": message, "type": type, "param": param, "code": code}}
        return cls(status=status, headers=headers or {}, body=body)

    @classmethod
    def stream(
        cls,
        events: Iterable[str | dict[str, Any] | tuple[str, str | dict[str, Any]]],
        *,
        done: bool = True,
        chunk_delay: float = 0.0,
        cut_after: int | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An SSE reply; dict events are JSON-encoded and ``[DONE]`` is appended when ``done``."""
        data: list[str | tuple[str, str]] = []
        for event in events:
            if isinstance(event, tuple):
                name, payload = event
                data.append((name, payload if isinstance(payload, str) else _json(payload)))
            else:
                data.append(event if isinstance(event, str) else _json(event))
        if done:
            data.append("[DONE]")
        return cls(sse=data, chunk_delay=chunk_delay, cut_after=cut_after, delay=delay)

    @classmethod
    def lines(
        cls,
        values: Iterable[Any],
        *,
        chunk_delay: float = 0.0,
        cut_after: int | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An NDJSON stream (``application/x-ndjson``), one JSON value per line."""
        return cls(ndjson=list(values), chunk_delay=chunk_delay, cut_after=cut_after, delay=delay)

    @classmethod
    def raw_bytes(
        cls, data: bytes, status: int = 200, *, content_type: str = "application/json"
    ) -> Reply:
        return cls(status=status, raw=data, content_type=content_type)

    @classmethod
    def from_cassette(cls, cassette: Cassette, **overrides: Any) -> Reply:
        """The recorded reply: its status, content type and exact body (SSE events for a
        stream). ``overrides`` set other fields (``chunk_delay``, ``cut_after``, ...)."""
        if cassette.is_stream:
            reply = cls(status=cassette.status, sse=cassette.sse_data)
        else:
            reply = cls(
                status=cassette.status,
                raw=cassette.response_body.encode(),
                content_type=cassette.content_type or "application/json",
            )
        for key, value in overrides.items():
            setattr(reply, key, value)
        return reply


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any
    completed: bool = False
    disconnected: bool = False


class FakeUpstream:
    """The fake server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The root URL, ``http://127.0.0.1:PORT``; subclasses add their API's version path."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> Self:
        """Serve on ``port`` (0: any free one). After :meth:`stop`, ``start(port=old.port)``
        brings the server back on the same address, as a restarted upstream would."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"fake-{type(self).__name__}", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(port), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        loop, runner = self._loop, self._runner
        if loop is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self, port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner

    # -- scripting ----------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        return len(self._script)

    def reset(self) -> None:
        self._script.clear()
        self.requests.clear()

    @property
    def last_request(self) -> RecordedRequest:
        return self.requests[-1]

    async def wait_for(self, condition: Callable[[], bool], within: float = 2.0) -> None:
        """Poll ``condition`` (for what happens on the server's side) until true or fail."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met on the fake upstream in time")
            await asyncio.sleep(0.005)

    # -- serving ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            parsed = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers={key.lower(): value for key, value in request.headers.items()},
            body=body,
            json=parsed,
        )
        self.requests.append(record)
        reply = self._script.popleft() if self._script else self._default(request, parsed)
        try:
            response = await self._send(request, reply)
        except (asyncio.CancelledError, ConnectionResetError):
            record.disconnected = True
            raise
        record.completed = True
        return response

    async def _send(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.cut_after == 0 and reply.sse is None:
            _cut(request)
            raise ConnectionResetError("scripted cut before the reply")
        headers = dict(reply.headers)
        if reply.ndjson is not None:
            return await self._send_lines(request, reply, headers)
        if reply.sse is None:
            if reply.raw is not None:
                data = reply.raw
                headers.setdefault("content-type", reply.content_type or "application/json")
            else:
                data = orjson.dumps(reply.body)
                headers.setdefault("content-type", "application/json")
            return web.Response(status=reply.status, body=data, headers=headers)
        headers.setdefault("content-type", "text/event-stream; charset=utf-8")
        response = web.StreamResponse(status=reply.status, headers=headers)
        await response.prepare(request)
        for n, data_line in enumerate(reply.sse):
            if reply.cut_after is not None and n >= reply.cut_after:
                _cut(request)
                raise ConnectionResetError("scripted cut mid-stream")
            if reply.chunk_delay and n:
                await asyncio.sleep(reply.chunk_delay)
            if isinstance(data_line, tuple):
                await response.write(f"event: {data_line[0]}\ndata: {data_line[1]}\n\n".encode())
            else:
                await response.write(f"data: {data_line}\n\n".encode())
        await response.write_eof()
        return response

    async def _send_lines(
        self, request: web.Request, reply: Reply, headers: dict[str, str]
    ) -> web.StreamResponse:
        headers.setdefault("content-type", "application/x-ndjson")
        response = web.StreamResponse(status=reply.status, headers=headers)
        await response.prepare(request)
        for n, value in enumerate(reply.ndjson or []):
            if reply.cut_after is not None and n >= reply.cut_after:
                _cut(request)
                raise ConnectionResetError("scripted cut mid-stream")
            if reply.chunk_delay and n:
                await asyncio.sleep(reply.chunk_delay)
            await response.write(orjson.dumps(value) + b"\n")
        await response.write_eof()
        return response

    def _default(self, request: web.Request, body: Any) -> Reply:
        """The reply when nothing is scripted; subclasses answer like their API."""
        return Reply.error(404, f"nothing scripted for {request.method} {request.path}")


def _cut(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


__all__ = ["FakeUpstream", "RecordedRequest", "Reply", "word_pieces"]
