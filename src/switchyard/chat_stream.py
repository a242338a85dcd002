"""A streamed chat completion as the caller iterates it: a relay of chunks from one or more legs.

The Gateway decides everything about a stream (which deployment, failover before the first
chunk, continuation after a break, usage and cost, the request's record) through a
:class:`StreamLifecycle`; this relay only moves chunks: it reads the current leg under its
deadline, presents every leg as one stream (one ``id``, the failover marker on a
continuation's first chunk), tells the lifecycle what happened, and always closes the upstream
stream, also when the caller stops reading. A break it cannot continue raises the mapped error,
which each front door renders as an error event: never a hang.

With output guardrails, every chunk passes through the request's
:class:`~switchyard.guardrails.StreamGuard` before it is counted and relayed: its text comes out
as far as no guardrail can still change it, and a guardrail that blocks ends the stream with
its error like any break.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from switchyard.errors import DeadlineExceeded, SwitchyardError, Timeout
from switchyard.guardrails import StreamGuard
from switchyard.midstream import Transcript
from switchyard.routing.candidate import Candidate
from switchyard.types import (
    CacheStatus,
    ChatChunk,
    ChatRequest,
    Cost,
    ServedBy,
    StreamFailover,
    Usage,
)


@dataclass(slots=True)
class Leg:
    """One deployment's part of the stream (more than one only after a mid-stream failover)."""

    candidate: Candidate
    request: ChatRequest  # what this deployment was sent
    upstream: AsyncIterator[ChatChunk]
    pending: ChatChunk | None  # the first chunk, read while opening
    opened_at: float  # clock() when the attempt started
    ends: float  # this attempt's total timeout, capped by the request's deadline
    text_from: int  # where this leg's text starts in the transcript
    marker: StreamFailover | None = None  # for this leg's first chunk
    usage: Usage | None = None  # as this leg's provider reported it
    finished: bool = False


class StreamLifecycle(Protocol):
    """What the relay reports to, and asks of, the Gateway (see ``stream_lifecycle.py``)."""

    served_by: ServedBy | None
    deadline: float

    async def open(self) -> Leg:
        """The first leg: attempts (with failover and fallbacks) until a first chunk."""

    async def leg_ended(self, leg: Leg, error: SwitchyardError | None) -> None:
        """``leg`` finished (``error`` None) or broke after its first chunk."""

    async def continuation(
        self, leg: Leg, error: SwitchyardError, transcript: Transcript
    ) -> Leg | None:
        """A leg that continues the broken ``leg`` elsewhere, or None: the error stands."""

    def totals(self, leg: Leg, usage: Usage) -> tuple[Usage, Cost | None]:
        """The stream's usage and cost so far, ``leg`` having reported ``usage``."""

    def finished(
        self, leg: Leg | None, transcript: Transcript, error: BaseException | None
    ) -> None:
        """The stream is over: settle and record it (``error`` None: it completed; ``leg``
        the last one, None when none opened)."""


class ChatStream:
    """Iterate with ``async for``; ``served_by`` is known once :meth:`start` has returned."""

    def __init__(
        self,
        lifecycle: StreamLifecycle,
        *,
        clock: Callable[[], float] = time.monotonic,
        guard: StreamGuard | None = None,
    ) -> None:
        self._lifecycle = lifecycle
        self._clock = clock
        self._guard = guard  # the output guardrails (None: none apply)
        self._leg: Leg | None = None
        self._transcript = Transcript()
        self._stream_id: tuple[str, int] | None = None  # the first chunk's id and created
        self._started = False
        self._closed = False
        self._ended = False
        self.usage: Usage | None = None
        self.failovers: list[StreamFailover] = []
        self.cache_status: CacheStatus | None = None  # the Gateway's cache lookup, if any
        self.cache_similarity: float | None = None  # a semantic cache hit's

    @property
    def served_by(self) -> ServedBy | None:
        return self._lifecycle.served_by

    async def start(self) -> None:
        """Open a stream on the first deployment that yields a first chunk."""
        if self._started:
            return
        self._started = True
        try:
            self._leg = await self._lifecycle.open()
        except BaseException as error:
            self._end(error)
            raise

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._relay()

    async def _relay(self) -> AsyncIterator[ChatChunk]:
        await self.start()
        error: BaseException | None = None
        try:
            while True:
                leg = self._current()
                try:
                    chunk = await self._next(leg)
                except SwitchyardError as broke:
                    if await self._continue_elsewhere(leg, broke):
                        continue
                    raise
                if chunk is None:
                    break
                if self._guard is not None:
                    chunk = self._guard.chunk(chunk)
                    if chunk is None:  # its text is held back, and nothing else was in it
                        continue
                yield self._account(leg, chunk)
            if self._guard is not None:  # an upstream that ended without a finish_reason
                for chunk in self._guard.tail():
                    yield self._account(self._current(), chunk)
        except BaseException as exc:  # recorded, then raised as it is (GeneratorExit: the
            error = exc  # caller stopped reading)
            raise
        finally:
            self._end(error)
            await self.aclose()
        await self._completed()  # only reached when the stream ended normally

    async def _completed(self) -> None:
        """The stream ended normally and its record was written (a subclass's hook: the
        response cache stores the stream here)."""

    def _current(self) -> Leg:
        assert self._leg is not None, "start() opens the first leg"
        return self._leg

    async def _next(self, leg: Leg) -> ChatChunk | None:
        """The leg's next chunk, None at its end; a break or timeout raises (after reporting
        it to the lifecycle)."""
        if leg.pending is not None:
            chunk, leg.pending = leg.pending, None
            return chunk
        candidate = leg.candidate
        try:
            async with asyncio.timeout(max(leg.ends - self._clock(), 0.0)):
                return await anext(leg.upstream)
        except StopAsyncIteration:
            await self._lifecycle.leg_ended(leg, None)
            return None
        except TimeoutError:
            error: SwitchyardError
            if leg.ends >= self._lifecycle.deadline:
                error = DeadlineExceeded(
                    "the request's deadline ran out mid-stream", provider=candidate.provider.name
                )
            else:
                error = Timeout(
                    f"stream did not finish within {candidate.timeout.total:g}s",
                    provider=candidate.provider.name,
                )
            error.deployment = candidate.key
            await self._lifecycle.leg_ended(leg, error)
            raise error from None
        except SwitchyardError as error:
            error.deployment = candidate.key
            await self._lifecycle.leg_ended(leg, error)
            raise

    def _account(self, leg: Leg, chunk: ChatChunk) -> ChatChunk:
        self._transcript.observe(chunk)
        if self._stream_id is None:
            self._stream_id = (chunk.id, chunk.created)
        elif self.failovers:  # a continuation: the caller sees one stream
            chunk.id, chunk.created = self._stream_id
            chunk.role = None
        if leg.marker is not None:
            chunk.failover, leg.marker = leg.marker, None
        if chunk.usage is not None:
            leg.usage = chunk.usage
            chunk.usage, chunk.cost = self._lifecycle.totals(leg, chunk.usage)
            self.usage = chunk.usage
        return chunk

    async def _continue_elsewhere(self, leg: Leg, error: SwitchyardError) -> bool:
        """After ``leg`` broke mid-stream: carry on with the lifecycle's continuation leg, if
        it offers one. False leaves the error standing."""
        following = await self._lifecycle.continuation(leg, error, self._transcript)
        if following is None:
            return False
        await close_stream(leg.upstream)
        if self._guard is not None:  # the next deployment says the held-back text again
            self._guard.discard()
        assert following.marker is not None
        self.failovers.append(following.marker)
        self._leg = following
        return True

    def _end(self, error: BaseException | None) -> None:
        if not self._ended:
            self._ended = True
            self._lifecycle.finished(self._leg, self._transcript, error)

    async def aclose(self) -> None:
        """Close the upstream stream; a stream closed before its end is recorded as cancelled
        by its caller."""
        if self._closed:
            return
        self._closed = True
        self._end(asyncio.CancelledError())
        if self._leg is not None:
            await close_stream(self._leg.upstream)


async def close_stream(stream: AsyncIterator[ChatChunk]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


__all__ = ["ChatStream", "Leg", "StreamLifecycle", "close_stream"]
