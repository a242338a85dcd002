"""A fault-injecting upstream on 127.0.0.1 that writes whatever bytes a test gives it.

:class:`FakeUpstream` speaks correct HTTP; this one reads each request (its head and a
``content-length`` body), records it, then waits ``delay`` seconds, writes the answer's bytes
and closes the connection (or keeps it open for ``hold`` seconds first). The answer is raw
bytes, or a function returning byte pieces, produced lazily (a 64 MiB body never sits in
memory) and written ``gap`` seconds apart:

    with RawUpstream(b"HTTP/1.1 200 OK\\r\\ncontent-length: 100\\r\\n\\r\\nshort") as bad:
        ... {"type": "openai", "base_url": bad.base_url, ...}

It runs an asyncio server on its own loop in a background thread, as the other fakes do, so
a gateway served in another thread and synchronous clients can all reach it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Self

RawAnswer = bytes | Callable[[], Iterable[bytes]]


def http_reply(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A well-formed HTTP/1.1 reply that closes its connection."""
    head = [f"HTTP/1.1 {status} X", f"content-length: {len(body)}", "connection: close"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class RawUpstream:
    """Answers every request with :attr:`answer`; use as a context manager."""

    def __init__(
        self, answer: RawAnswer, *, delay: float = 0.0, gap: float = 0.0, hold: float = 0.0
    ) -> None:
        self.answer = answer
        self.delay = delay
        self.gap = gap
        self.hold = hold
        self.requests: list[bytes] = []  # each request's head (request line and headers)
        self.connections = 0
        self.active = 0  # connections being answered now
        self.max_active = 0  # the most at once
        self.sent = 0  # bytes written, all connections
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, an ``openai`` provider's ``base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._handle, sock=sock)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in self._handlers:
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.requests.append(head)
            length = _content_length(head)
            if length:
                await reader.readexactly(length)
            if self.delay:
                await asyncio.sleep(self.delay)
            pieces = [self.answer] if isinstance(self.answer, bytes) else self.answer()
            for n, piece in enumerate(pieces):
                if n and self.gap:
                    await asyncio.sleep(self.gap)
                writer.write(piece)
                await writer.drain()
                self.sent += len(piece)
            if self.hold:
                await asyncio.sleep(self.hold)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away: what a test provokes
        except asyncio.CancelledError:
            pass  # the fake is stopping (it cancels its handlers): end quietly
        finally:
            self.active -= 1
            self._handlers.discard(task)
            writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


__all__ = ["RawAnswer", "RawUpstream", "http_reply"]
