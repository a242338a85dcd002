"""Server-sent events framing: bytes in, events out (no translation, no I/O)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from switchyard.errors import UpstreamProtocolError

# The most data one event may gather (its ``data`` lines as received, in bytes) when the caller
# names no limit: an upstream that never sends the blank line ending an event would otherwise
# grow it without end, however short each line is.
MAX_EVENT_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class SseEvent:
    data: str
    event: str | None = None
    id: str | None = None


class SseParser:
    """Incremental parser per the WHATWG EventSource rules (``\\n``, ``\\r\\n`` or ``\\r`` lines;
    ``data`` lines joined by ``\\n``; comments and ``retry`` ignored). An event whose ``data``
    lines come to more than ``max_event_bytes`` raises
    :class:`~switchyard.errors.UpstreamProtocolError` (without a provider name: the adapter's
    boundary sets it). The length of a line itself is the byte source's to bound."""

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._size = 0  # bytes of the event's data lines so far
        self._max_event_bytes = max_event_bytes
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        self._buffer += chunk
        events: list[SseEvent] = []
        while True:
            line, sep, rest = _split_line(self._buffer)
            if not sep:
                break
            self._buffer = rest
            event = self._line(line.decode("utf-8"), len(line))
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> list[SseEvent]:
        """Flush what is left when the stream ends (a last event without its blank line)."""
        events: list[SseEvent] = []
        if self._buffer:
            event = self._line(self._buffer.decode("utf-8"), len(self._buffer))
            self._buffer = b""
            if event is not None:
                events.append(event)
        event = self._line("", 0)
        if event is not None:
            events.append(event)
        return events

    def _line(self, line: str, size: int) -> SseEvent | None:
        """Take one line (``size``: its length in bytes); a blank one ends the event."""
        if not line:
            if not self._data and self._event is None:
                return None
            event = SseEvent("\n".join(self._data), self._event, self._id)
            self._data, self._event, self._size = [], None, 0
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._size += size + 1
            if self._size > self._max_event_bytes:
                raise UpstreamProtocolError(
                    f"upstream SSE event with more than {self._max_event_bytes} bytes of data"
                )
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            self._id = value
        return None


def _split_line(buffer: bytes) -> tuple[bytes, bytes, bytes]:
    """Split at the first line ending; a trailing lone ``\\r`` waits for a possible ``\\n``."""
    n = buffer.find(b"\n")
    r = buffer.find(b"\r")
    if r == -1 and n == -1:
        return buffer, b"", b""
    if r != -1 and (n == -1 or r < n):
        if r == len(buffer) - 1:
            return buffer, b"", b""
        if buffer[r + 1 : r + 2] == b"\n":
            return buffer[:r], b"\r\n", buffer[r + 2 :]
        return buffer[:r], b"\r", buffer[r + 1 :]
    return buffer[:n], b"\n", buffer[n + 1 :]


async def iter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SseEvent]:
    parser = SseParser()
    async for chunk in chunks:
        for event in parser.feed(chunk):
            yield event
    for event in parser.finish():
        yield event


__all__ = ["MAX_EVENT_BYTES", "SseEvent", "SseParser", "iter_sse"]
