"""A lean Redis client for the limits' two scripts: one pipelined connection, RESP2 by hand.

Why not redis-py on this path: every admission is one script call, and redis-py spends several
hundred microseconds of CPU on each (command packing with per-argument encoders, a pooled
connection checked out and back, a timeout context, a stream reader per line), which alone
doubled a request's CPU in the gateway's instruction count. Here a call is one
write of a pre-encoded command (the commands of one event-loop iteration go out in one write)
and a future resolved by the protocol's parser; any number of calls share one connection in
flight (Redis answers in order). Timeouts cost no
timer per call: a watchdog, armed only while replies are awaited, aborts a connection whose
oldest call has waited past ``timeout``, which fails every call on it at once.

Errors: a connection that cannot be made, is lost or times out raises
:class:`~switchyard.limits.rules.BackendUnavailable` (the limiter's policy applies); an error
reply raises :class:`RespError`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from switchyard.limits.rules import BackendUnavailable

Reply = Any  # bytes | int | None | list[Reply], or RespError in place of an error reply


class RespError(Exception):
    """Redis answered with an error (``-ERR ...``, ``-NOSCRIPT ...``)."""


class _Incomplete(Exception):
    pass


def encode(args: tuple[bytes | str | int | float, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, int):
            data = b"%d" % arg
        else:
            data = repr(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def parse(buffer: bytearray, position: int) -> tuple[Reply, int]:
    """One reply starting at ``position``: (the reply, where the next begins)."""
    end = buffer.find(b"\r\n", position)
    if end < 0:
        raise _Incomplete
    kind, line = buffer[position], bytes(buffer[position + 1 : end])
    after = end + 2
    if kind == 43:  # '+'
        return line, after
    if kind == 45:  # '-'
        return RespError(line.decode(errors="replace")), after
    if kind == 58:  # ':'
        return int(line), after
    if kind == 36:  # '$'
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            raise _Incomplete
        return bytes(buffer[after : after + size]), after + size + 2
    if kind == 42:  # '*'
        count = int(line)
        if count < 0:
            return None, after
        items: list[Reply] = []
        for _ in range(count):
            item, after = parse(buffer, after)
            items.append(item)
        return items, after
    raise RespError(f"unexpected reply type {chr(kind)!r}")


class _Connection(asyncio.Protocol):
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: deque[tuple[asyncio.Future[Reply], float]] = deque()
        self.closed = False
        self._watchdog: asyncio.TimerHandle | None = None
        self._outgoing: list[bytes] = []  # commands of this loop iteration, sent in one write

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's and uvloop's TCP transports (uvloop's are not asyncio.Transport subclasses)
        self.transport = cast(asyncio.Transport, transport)

    def send(self, command: bytes) -> asyncio.Future[Reply]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
        if self.closed or self.transport is None:
            future.set_exception(BackendUnavailable("the Redis connection is closed"))
            return future
        self.waiting.append((future, time.monotonic()))
        if not self._outgoing:
            loop.call_soon(self._write)
        self._outgoing.append(command)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.timeout, self._check)
        return future

    def _write(self) -> None:
        """Every command sent in this loop iteration, in one write (one system call)."""
        outgoing, self._outgoing = self._outgoing, []
        if self.transport is not None and not self.closed:
            self.transport.write(outgoing[0] if len(outgoing) == 1 else b"".join(outgoing))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        position = 0
        try:
            while position < len(buffer):
                reply, position = parse(buffer, position)
                if not self.waiting:
                    raise RespError("a reply nobody asked for")
                future, _ = self.waiting.popleft()
                if not future.done():
                    if isinstance(reply, RespError):
                        future.set_exception(reply)
                    else:
                        future.set_result(reply)
        except _Incomplete:
            pass
        except (RespError, ValueError) as exc:  # the stream is out of step: start over
            self._fail(BackendUnavailable(f"bad reply from Redis: {exc}"))
            if self.transport is not None:
                self.transport.abort()
            return
        del buffer[:position]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(BackendUnavailable(f"the Redis connection was lost ({exc or 'closed'})"))

    def _check(self) -> None:
        self._watchdog = None
        if not self.waiting:
            return
        waited = time.monotonic() - self.waiting[0][1]
        if waited >= self.timeout:
            self._fail(BackendUnavailable(f"Redis did not answer within {self.timeout:g}s"))
            if self.transport is not None:
                self.transport.abort()
            return
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_later(self.timeout - waited, self._check)

    def _fail(self, error: BackendUnavailable) -> None:
        self.closed = True
        while self.waiting:
            future, _ = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None


class RespClient:
    """``redis://[user:password@]host[:port][/db]`` (or ``rediss://``), one connection,
    reconnected on the next call after it is lost."""

    def __init__(self, url: str, *, timeout: float = 0.25) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"limits.url must be redis:// or rediss://, not {parts.scheme}://")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.tls = parts.scheme == "rediss"
        self.timeout = timeout
        path = parts.path.strip("/")
        self._setup: list[bytes] = []
        if parts.password is not None:
            user = unquote(parts.username) if parts.username else None
            password = unquote(parts.password)
            auth = ("AUTH", user, password) if user else ("AUTH", password)
            self._setup.append(encode(auth))
        if path and path != "0":
            self._setup.append(encode(("SELECT", int(path))))
        self._connection: _Connection | None = None
        self._connecting: asyncio.Future[_Connection] | None = None

    async def call(self, *args: bytes | str | int | float) -> Reply:
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._connect()
        return await connection.send(encode(args))

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and connection.transport is not None:
            connection.transport.close()

    async def _connect(self) -> _Connection:
        if self._connecting is not None:  # another call is connecting: share its connection
            return await asyncio.shield(self._connecting)
        loop = asyncio.get_running_loop()
        self._connecting = loop.create_future()
        try:
            connection = await self._open()
        except BaseException as exc:
            error = (
                exc
                if isinstance(exc, BackendUnavailable)
                else BackendUnavailable(f"cannot connect to Redis ({type(exc).__name__})")
            )
            self._connecting.set_exception(error)
            self._connecting.exception()  # retrieved: no "never retrieved" warning
            self._connecting = None
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise error from None
        self._connection = connection
        self._connecting.set_result(connection)
        self._connecting = None
        return connection

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if self.tls else None
        try:
            async with asyncio.timeout(self.timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self.timeout), self.host, self.port, ssl=context
                )
                for command in self._setup:
                    await connection.send(command)
        except (OSError, TimeoutError, RespError) as exc:
            raise BackendUnavailable(f"cannot connect to Redis: {type(exc).__name__}") from None
        return connection


__all__ = ["RespClient", "RespError", "encode", "parse"]
