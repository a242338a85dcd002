"""What a reader of a streamed chat answer may count on, whoever produced the stream: the
gateway's :class:`~switchyard.chat_stream.ChatStream`, or a stream wrapped around one (a
conversation's reply, which stores itself at its end). The doors relay any of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from switchyard.types.chat import CacheStatus, ChatChunk, ServedBy
from switchyard.types.usage import Usage


class ChunkStream(Protocol):
    @property
    def served_by(self) -> ServedBy | None:
        """Which deployment answered (known once :meth:`start` returned)."""

    @property
    def usage(self) -> Usage | None:
        """The whole answer's usage, once its last chunk came."""

    @property
    def cache_status(self) -> CacheStatus | None: ...

    @property
    def cache_similarity(self) -> float | None: ...

    async def start(self) -> None:
        """Open the stream: routing and failover happen here, before any chunk."""

    def __aiter__(self) -> AsyncIterator[ChatChunk]: ...

    async def aclose(self) -> None: ...


__all__ = ["ChunkStream"]
