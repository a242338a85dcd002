"""A streamed reply of a conversation: the gateway's stream relayed as it is, and, once it
ended normally, the whole answer handed to ``on_end`` (which stores the turn pair) before the
iteration finishes. A stream that fails, or that its reader abandons, stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from switchyard.types import CacheStatus, ChatChunk, Cost, ServedBy, Usage
from switchyard.types.stream import ChunkStream

OnEnd = Callable[[str, Usage | None, Cost | None, ServedBy | None], Awaitable[None]]


class ReplyStream:
    """``async for chunk in stream``; the same surface as the gateway's stream (``start``,
    ``served_by``, ``usage``, ``aclose`` ...), so a door relays it like any."""

    def __init__(self, stream: ChunkStream, on_end: OnEnd) -> None:
        self._stream = stream
        self._on_end = on_end

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
        await self._stream.start()

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._relay()

    async def _relay(self) -> AsyncIterator[ChatChunk]:
        text: list[str] = []
        cost: Cost | None = None
        async for chunk in self._stream:
            if chunk.text:
                text.append(chunk.text)
            if chunk.cost is not None:
                cost = chunk.cost
            yield chunk
        await self._on_end("".join(text), self._stream.usage, cost, self._stream.served_by)

    async def aclose(self) -> None:
        await self._stream.aclose()


__all__ = ["OnEnd", "ReplyStream"]
