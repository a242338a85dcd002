"""A stream with the response cache in front: :class:`CachingStream` is a
:class:`~switchyard.chat_stream.ChatStream` to the doors (same ``start``, iteration,
``served_by``, ``usage``, ``aclose``).

``start`` runs the cache lookup first (the Gateway's ``lookup`` callable: a stream's stages
run when it starts, since opening one is asynchronous). Then either

- a hit: the stored chunks are replayed under this request's id; no upstream is involved, and
  the record ends through the same lifecycle as any stream's (with no leg, so nothing of an
  upstream is settled on it); or
- a miss or a skip: the stream is opened upstream as usual, and the chunks it relays are kept;
  when it ended normally (its record already written: record, then cache store) they are
  stored. A stream that broke, was cut by the drain, or whose caller went away is never
  stored, nor is one longer than ``cache.max_entry_bytes``.

With output guardrails, the chunks kept are the filtered ones: a hit replays the answer as it
was filtered when it was stored.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from switchyard.cache.service import CacheLookup, ResponseCache
from switchyard.chat_stream import ChatStream, Leg, StreamLifecycle, close_stream
from switchyard.guardrails import StreamGuard
from switchyard.records.record import RequestRecord
from switchyard.types import ChatChunk, ServedBy


class CachingStream(ChatStream):
    def __init__(
        self,
        lifecycle: StreamLifecycle,
        *,
        cache: ResponseCache,
        lookup: Callable[[], Awaitable[CacheLookup]],
        record: RequestRecord,
        clock: Callable[[], float] = time.monotonic,
        guard: StreamGuard | None = None,
    ) -> None:
        super().__init__(lifecycle, clock=clock, guard=guard)
        self._cache = cache
        self._look_up = lookup
        self._lookup: CacheLookup | None = None
        self._record = record
        self._replay: list[ChatChunk] | None = None  # a hit's chunks
        self._hit_served_by: ServedBy | None = None
        self._kept: list[ChatChunk] | None = None  # a miss's chunks, to store
        self._room = cache.settings.max_entry_bytes  # a longer answer is relayed, not kept

    @property
    def served_by(self) -> ServedBy | None:
        return self._hit_served_by or super().served_by

    async def start(self) -> None:
        if self._lookup is None:
            try:
                lookup = self._lookup = await self._look_up()
            except BaseException as error:
                self._started = True
                self._end(error)
                raise
            self.cache_status, self.cache_similarity = lookup.status, lookup.similarity
            if lookup.hit is not None:
                self._started = True
                self._replay = self._cache.replay(lookup, self._record)
                self._hit_served_by = lookup.hit.served_by()
                self.usage = lookup.hit.usage
                self._record.ttft_ms = (time.perf_counter() - self._record.started) * 1000.0
                return
            if lookup.stores:
                self._kept = []
        await super().start()

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        if self._lookup is None:  # not started yet: start, then relay or replay
            return self._start_then_relay()
        if self._replay is not None:
            return self._replayed(self._replay)
        return self._relay()  # the plain relay: chunks are kept by _account

    async def _start_then_relay(self) -> AsyncIterator[ChatChunk]:
        """For a caller that iterates without calling :meth:`start` first (the doors call it,
        so they iterate the relay or the replay itself, without this extra layer)."""
        await self.start()
        inner = self.__aiter__()
        try:
            async for chunk in inner:
                yield chunk
        finally:
            await close_stream(inner)

    def _account(self, leg: Leg, chunk: ChatChunk) -> ChatChunk:
        chunk = super()._account(leg, chunk)
        if self._kept is not None:
            self._keep(chunk)
        return chunk

    async def _completed(self) -> None:
        """The stream ended normally and was recorded (record, then cache store)."""
        if self._kept is not None and self._lookup is not None:
            if self._record.status == "success":
                await self._cache.store_chunks(self._lookup, self._kept, self._record)

    async def _replayed(self, chunks: list[ChatChunk]) -> AsyncIterator[ChatChunk]:
        error: BaseException | None = None
        try:
            for chunk in chunks:
                yield chunk
        except BaseException as exc:  # the caller stopped reading (GeneratorExit)
            error = exc
            raise
        finally:
            self._end(error)
            await self.aclose()

    def _keep(self, chunk: ChatChunk) -> None:
        assert self._kept is not None
        self._room -= 64 + len(chunk.text or "") + len(chunk.reasoning or "")
        for call in chunk.tool_calls or ():
            self._room -= 64 + len(call.arguments or "")
        if self._room < 0:
            self._kept = None
        else:
            self._kept.append(chunk)


__all__ = ["CachingStream"]
