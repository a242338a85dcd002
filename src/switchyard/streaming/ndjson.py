"""Newline-delimited JSON framing: bytes in, parsed JSON values out (no translation, no I/O).

NDJSON (``application/x-ndjson``, as Ollama streams) is one JSON value per line. Lines end with
``\\n`` (a ``\\r`` before it is tolerated); blank lines are skipped; a last line without its
newline is still a value when the stream ends. A line that is not UTF-8 or not JSON raises
:class:`~switchyard.errors.UpstreamProtocolError` without a provider name: the adapter's
boundary sets it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import orjson

from switchyard.errors import UpstreamProtocolError

# A line this long without a newline is not a stream we can frame (an upstream sending a body
# of garbage, or a huge value we would otherwise buffer without bound).
MAX_LINE_BYTES = 16 * 1024 * 1024


class NdjsonParser:
    """Incremental: :meth:`feed` the bytes as they arrive, :meth:`finish` when the stream ends."""

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already known to hold no newline
        self._max_line_bytes = max_line_bytes

    def feed(self, chunk: bytes) -> list[Any]:
        """The values of the lines ``chunk`` completes, in order."""
        self._buffer += chunk
        values: list[Any] = []
        start = 0
        while True:
            end = self._buffer.find(b"\n", max(start, self._scanned))
            if end == -1:
                break
            value = _parse(bytes(self._buffer[start:end]))
            if value is not _BLANK:
                values.append(value)
            start = end + 1
        del self._buffer[:start]
        self._scanned = len(self._buffer)
        if len(self._buffer) > self._max_line_bytes:
            raise UpstreamProtocolError(
                f"upstream NDJSON line longer than {self._max_line_bytes} bytes"
            )
        return values

    def finish(self) -> list[Any]:
        """The value of a last line that had no newline, if any."""
        rest, self._buffer, self._scanned = bytes(self._buffer), bytearray(), 0
        value = _parse(rest)
        return [] if value is _BLANK else [value]


_BLANK: Any = object()


def _parse(line: bytes) -> Any:
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line.strip():
        return _BLANK
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        # orjson also refuses invalid UTF-8 with JSONDecodeError.
        raise UpstreamProtocolError(
            f"upstream sent a malformed NDJSON line: {line[:200]!r}"
        ) from exc


async def iter_ndjson(chunks: AsyncIterable[bytes]) -> AsyncIterator[Any]:
    """The JSON values of an NDJSON byte stream."""
    parser = NdjsonParser()
    async for chunk in chunks:
        for value in parser.feed(chunk):
            yield value
    for value in parser.finish():
        yield value


__all__ = ["MAX_LINE_BYTES", "NdjsonParser", "iter_ndjson"]
