"""A streamed reply of a conversation: the gateway's stream relayed as it is, and, once it
ended normally, the whole answer handed to ``on_end`` (which stores the turn pair) before the
iteration finishes. A stream that fails, or that its reader abandons, stores nothing and calls
``on_abandon`` instead (which frees the session for its next message), exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from switchyard.types import CacheStatus, ChatChunk, Cost, ServedBy, Usage
from switchyard.types.stream import ChunkStream

OnEnd = Callable[[str, Usage | None, Cost | None, ServedBy | None], Awaitable[None]]
OnAbandon = Callable[[], Awaitable[None]]


class ReplyStream:
    """``async for chunk in stream``; the same surface as the gateway's stream (``start``,
    ``served_by``, ``usage``, ``aclose`` ...), so a door relays it like any."""

    def __init__(self, stream: ChunkStream, on_end: OnEnd, on_abandon: OnAbandon) -> None:
        self._stream = stream
        self._on_end = on_end
        self._on_abandon = on_abandon
        self._settled = False

    @property
    def served_by(self) -> ServedBy | None:
        return self._stream.served_by

    @property
    def usage(self) -> Usage | None:
        return self._stream.usage

    @property
    def cache_status(self) -> CacheStatus | None:
        return self._stream.cache_status

    @property
    def cache_similarity(self) -> float | None:
        return self._stream.cache_similarity

    async def start(self) -> None:
        try:
            await self._stream.start()
        except BaseException:
            await self._abandon()
            raise

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._relay()

    async def _relay(self) -> AsyncIterator[ChatChunk]:
        text: list[str] = []
        cost: Cost | None = None
        try:
            async for chunk in self._stream:
                if chunk.text:
                    text.append(chunk.text)
                if chunk.cost is not None:
                    cost = chunk.cost
                yield chunk
            await self._on_end("".join(text), self._stream.usage, cost, self._stream.served_by)
            self._settled = True  # stored, which freed the session
        finally:
            await self._abandon()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            await self._abandon()

    async def _abandon(self) -> None:
        if not self._settled:
            self._settled = True
            await self._on_abandon()


__all__ = ["OnAbandon", "OnEnd", "ReplyStream"]
