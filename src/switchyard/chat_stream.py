"""A streamed chat completion: fail over until the first chunk, then relay with deadlines.

Failover is possible only before anything reached the caller, so :meth:`ChatStream.start` runs
the attempt loop around "open the upstream stream and read its first chunk" (hedged, when the
alias asks for it: the first deployment to yield a chunk wins, the others are closed). After
that the stream is bound to one deployment: a break ends it with the mapped error (each front
door renders that as an error event), never a hang. The upstream stream is always closed, also
when the caller stops reading.

With ``mid_stream_failover`` on the alias, a break after the first chunk is not the end: the
next deployment is asked to continue the partial answer and its chunks are relayed in the same
stream (see :mod:`switchyard.midstream` for the approach and its limits).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from switchyard.config.schema import HedgeSettings
from switchyard.errors import ContextLengthExceeded, DeadlineExceeded, SwitchyardError, Timeout
from switchyard.midstream import (
    Transcript,
    can_continue,
    continuation_request,
    estimated_usage,
    next_candidates,
)
from switchyard.resilience.breaker import BreakerStore
from switchyard.routing.attempts import AttemptRunner, Outcome
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard
from switchyard.routing.router import for_candidate
from switchyard.routing.tokens import TokenCounter
from switchyard.types import (
    AbandonedAttempt,
    ChatChunk,
    ChatRequest,
    Cost,
    ServedBy,
    StreamFailover,
    Usage,
)

Opened = tuple[AsyncIterator[ChatChunk], ChatChunk | None]


@dataclass(slots=True)
class _Leg:
    """One deployment's part of the stream (there is more than one only after a mid-stream
    failover)."""

    candidate: Candidate
    request: ChatRequest  # what this deployment was sent
    upstream: AsyncIterator[ChatChunk]
    pending: ChatChunk | None  # the first chunk, read while opening
    opened_at: float
    ends: float  # this attempt's total timeout, capped by the request's deadline
    text_from: int  # where this leg's text starts in the transcript
    marker: StreamFailover | None = None  # for this leg's first chunk
    usage: Usage | None = None  # as this leg's provider reported it
    finished: bool = False


class ChatStream:
    """Iterate with ``async for``; ``served_by`` is known once :meth:`start` has returned."""

    def __init__(
        self,
        request: ChatRequest,
        candidates: Sequence[Candidate],
        runner: AttemptRunner,
        *,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
        on_context_exceeded: Callable[[ContextLengthExceeded], list[Candidate] | None]
        | None = None,
        hedge: HedgeSettings | None = None,
        mid_stream_failover: bool = False,
        tokens: TokenCounter | None = None,
    ) -> None:
        self.request = request
        self._candidates = candidates
        self._runner = runner
        self._breakers: BreakerStore = runner.breakers
        self._health: HealthBoard = runner.health
        self._deadline = deadline
        self._clock = clock
        self._on_context_exceeded = on_context_exceeded
        self._hedge = hedge
        self._mid_stream_failover = mid_stream_failover
        self._tokens = tokens or TokenCounter()
        self._leg: _Leg | None = None
        self._transcript = Transcript()
        self._stream_id: tuple[str, int] | None = None  # the first chunk's id and created
        self._broken: set[str] = set()
        self._earlier: tuple[Usage, Cost | None] | None = None  # legs before the current one
        self._started = False
        self._closed = False
        self.served_by: ServedBy | None = None
        self.usage: Usage | None = None
        self.failovers: list[StreamFailover] = []

    async def start(self) -> None:
        """Open a stream on the first deployment that yields a first chunk."""
        if self._started:
            return
        self._started = True
        try:
            outcome = await self._open(self._candidates, self.request)
        except ContextLengthExceeded as exc:
            larger = self._on_context_exceeded(exc) if self._on_context_exceeded else None
            if larger is None:
                raise
            self._candidates = larger
            outcome = await self._open(larger, self.request)
        self._leg = self._new_leg(outcome, self.request)
        self.served_by = ServedBy(
            provider=outcome.candidate.provider.name,
            model=outcome.candidate.model,
            attempts=outcome.attempts,
            upstream_ms=outcome.upstream_seconds * 1000.0,
            hedged=outcome.hedged,
            abandoned=[
                AbandonedAttempt(
                    provider=a.candidate.provider.name,
                    model=a.candidate.model,
                    answered=a.value is not None,
                )
                for a in outcome.abandoned
            ],
        )

    async def _open(self, candidates: Sequence[Candidate], request: ChatRequest) -> Outcome[Opened]:
        async def open_stream(candidate: Candidate) -> Opened:
            upstream = candidate.provider.stream(for_candidate(request, candidate))
            try:
                first = await anext(upstream)
            except StopAsyncIteration:
                return upstream, None
            except BaseException:
                await _close(upstream)
                raise
            return upstream, first

        def first_token_limit(candidate: Candidate) -> float:
            return candidate.timeout.first_token or candidate.timeout.total

        async def discard(opened: Opened) -> None:  # a hedge that lost the race
            await _close(opened[0])

        return await self._runner.run(
            candidates,
            open_stream,
            deadline=self._deadline,
            attempt_timeout=first_token_limit,
            streaming=True,
            hedge=self._hedge,
            discard=discard,
        )

    def _new_leg(
        self,
        outcome: Outcome[Opened],
        request: ChatRequest,
        marker: StreamFailover | None = None,
    ) -> _Leg:
        upstream, first = outcome.value
        candidate, now = outcome.candidate, self._clock()
        return _Leg(
            candidate,
            request,
            upstream,
            first,
            opened_at=now - outcome.seconds,
            ends=min(self._deadline, now + candidate.timeout.total),
            text_from=len(self._transcript.text),
            marker=marker,
        )

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._relay()

    async def _relay(self) -> AsyncIterator[ChatChunk]:
        await self.start()
        try:
            while True:
                leg = self._current()
                try:
                    chunk = await self._next(leg)
                except SwitchyardError as error:
                    if await self._continue_elsewhere(leg, error):
                        continue
                    raise
                if chunk is None:
                    break
                yield self._account(leg, chunk)
        finally:
            last = self._leg
            if last is not None and not last.finished:  # the caller stopped reading: no verdict
                last.finished = True
                self._health.abandoned(last.candidate.key)
            await self.aclose()

    def _current(self) -> _Leg:
        assert self._leg is not None, "start() opens the first leg"
        return self._leg

    async def _next(self, leg: _Leg) -> ChatChunk | None:
        """The leg's next chunk, None at its end; a break or timeout raises (after recording
        it against the deployment)."""
        if leg.pending is not None:
            chunk, leg.pending = leg.pending, None
            return chunk
        candidate = leg.candidate
        try:
            async with asyncio.timeout(max(leg.ends - self._clock(), 0.0)):
                return await anext(leg.upstream)
        except StopAsyncIteration:
            self._finish(leg, ok=True)
            return None
        except TimeoutError:
            await self._failed(leg, "stream timed out")
            if leg.ends >= self._deadline:
                raise DeadlineExceeded(
                    "the request's deadline ran out mid-stream", provider=candidate.provider.name
                ) from None
            raise Timeout(
                f"stream did not finish within {candidate.timeout.total:g}s",
                provider=candidate.provider.name,
            ) from None
        except SwitchyardError as error:
            await self._failed(leg, str(error))
            raise

    def _account(self, leg: _Leg, chunk: ChatChunk) -> ChatChunk:
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
            prices = leg.candidate.prices
            if chunk.cost is None and prices is not None:
                chunk.cost = prices.cost(chunk.usage)
            if self._earlier is not None:  # usage and cost of every leg, summed
                usage, cost = self._earlier
                chunk.usage = usage + chunk.usage
                chunk.cost = None if cost is None or chunk.cost is None else cost + chunk.cost
            self.usage = chunk.usage
        return chunk

    async def _continue_elsewhere(self, leg: _Leg, error: SwitchyardError) -> bool:
        """After ``leg`` broke mid-stream: open a continuation on the next deployment (when the
        alias allows it and the stream can be continued). False leaves the error standing."""
        if not self._mid_stream_failover or not can_continue(self.request, self._transcript, error):
            return False
        self._broken.add(leg.candidate.key)
        rest = next_candidates(self._candidates, leg.candidate, self._broken)
        if not rest:
            return False
        partial = self._transcript.text
        produced = self._tokens.count_text(partial, leg.candidate.model) if partial else 0
        request = continuation_request(self.request, partial, produced)
        try:
            outcome = await self._open(rest, request)
        except SwitchyardError:
            return False
        self._add_earlier(leg, partial[leg.text_from :])
        await _close(leg.upstream)
        marker = StreamFailover(
            from_deployment=leg.candidate.key,
            to_deployment=outcome.candidate.key,
            reason=str(error),
        )
        self.failovers.append(marker)
        self._leg = self._new_leg(outcome, request, marker)
        return True

    def _add_earlier(self, leg: _Leg, text: str) -> None:
        """Fold a broken leg's usage (reported, or else estimated) into the running total."""
        usage = leg.usage or estimated_usage(leg.request, text, leg.candidate, self._tokens)
        prices = leg.candidate.prices
        cost = prices.cost(usage) if prices is not None else None
        if self._earlier is not None:
            before, before_cost = self._earlier
            usage = before + usage
            cost = None if cost is None or before_cost is None else before_cost + cost
        self._earlier = (usage, cost)

    async def _failed(self, leg: _Leg, error: str) -> None:
        """A break after the first chunk still counts against the deployment."""
        self._finish(leg, ok=False, error=error)
        await self._breakers.record_failure(leg.candidate.key, leg.candidate.breaker)

    def _finish(self, leg: _Leg, *, ok: bool, error: str | None = None) -> None:
        if leg.finished:
            return
        leg.finished = True
        seconds = self._clock() - leg.opened_at
        self._health.finished(leg.candidate.key, ok=ok, seconds=seconds, error=error)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._leg is not None:
            await _close(self._leg.upstream)


async def _close(stream: AsyncIterator[ChatChunk]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


__all__ = ["ChatStream"]
