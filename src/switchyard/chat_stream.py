"""A streamed chat completion: fail over until the first chunk, then relay with deadlines.

Failover is possible only before anything reached the caller, so :meth:`ChatStream.start` runs
the attempt loop around "open the upstream stream and read its first chunk". After that the
stream is bound to one deployment: a break ends it with the mapped error (each front door
renders that as an error event), never a hang. The upstream stream is always closed, also when
the caller stops reading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

from switchyard.errors import ContextLengthExceeded, DeadlineExceeded, SwitchyardError, Timeout
from switchyard.resilience.breaker import BreakerStore
from switchyard.routing.attempts import AttemptRunner
from switchyard.routing.health import HealthBoard
from switchyard.routing.router import Candidate, for_candidate
from switchyard.types import ChatChunk, ChatRequest, ServedBy, Usage

Opened = tuple[AsyncIterator[ChatChunk], ChatChunk | None]


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
    ) -> None:
        self.request = request
        self._candidates = candidates
        self._runner = runner
        self._breakers: BreakerStore = runner.breakers
        self._health: HealthBoard = runner.health
        self._deadline = deadline
        self._clock = clock
        self._on_context_exceeded = on_context_exceeded
        self._upstream: AsyncIterator[ChatChunk] | None = None
        self._first: ChatChunk | None = None
        self._candidate: Candidate | None = None
        self._started = False
        self._closed = False
        self._finished = False
        self._opened_at = 0.0
        self.served_by: ServedBy | None = None
        self.usage: Usage | None = None

    async def start(self) -> None:
        """Open a stream on the first deployment that yields a first chunk."""
        if self._started:
            return
        self._started = True
        request = self.request

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

        try:
            outcome = await self._runner.run(
                self._candidates,
                open_stream,
                deadline=self._deadline,
                attempt_timeout=first_token_limit,
                streaming=True,
            )
        except ContextLengthExceeded as exc:
            larger = self._on_context_exceeded(exc) if self._on_context_exceeded else None
            if larger is None:
                raise
            outcome = await self._runner.run(
                larger,
                open_stream,
                deadline=self._deadline,
                attempt_timeout=first_token_limit,
                streaming=True,
            )
        self._upstream, self._first = outcome.value
        self._candidate = outcome.candidate
        self._opened_at = self._clock() - outcome.upstream_seconds
        self._attempt_ends = min(self._deadline, self._clock() + outcome.candidate.timeout.total)
        self.served_by = ServedBy(
            provider=outcome.candidate.provider.name,
            model=outcome.candidate.model,
            attempts=outcome.attempts,
            upstream_ms=outcome.upstream_seconds * 1000.0,
        )

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._relay()

    async def _relay(self) -> AsyncIterator[ChatChunk]:
        await self.start()
        assert self._upstream is not None and self._candidate is not None
        upstream, candidate = self._upstream, self._candidate
        try:
            if self._first is not None:
                yield self._account(self._first)
            while True:
                remaining = self._attempt_ends - self._clock()
                try:
                    async with asyncio.timeout(max(remaining, 0.0)):
                        chunk = await anext(upstream)
                except StopAsyncIteration:
                    self._finish(candidate, ok=True)
                    break
                except TimeoutError:
                    await self._failed(candidate, "stream timed out")
                    if self._attempt_ends >= self._deadline:
                        raise DeadlineExceeded(
                            "the request's deadline ran out mid-stream",
                            provider=candidate.provider.name,
                        ) from None
                    raise Timeout(
                        f"stream did not finish within {candidate.timeout.total:g}s",
                        provider=candidate.provider.name,
                    ) from None
                except SwitchyardError as error:
                    await self._failed(candidate, str(error))
                    raise
                yield self._account(chunk)
        finally:
            if not self._finished:  # the caller stopped reading: no verdict on the deployment
                self._finished = True
                self._health.abandoned(candidate.key)
            await self.aclose()

    def _account(self, chunk: ChatChunk) -> ChatChunk:
        if chunk.usage is not None:
            self.usage = chunk.usage
            prices = self._candidate.prices if self._candidate else None
            if prices is not None and chunk.cost is None:
                chunk.cost = prices.cost(chunk.usage)
        return chunk

    async def _failed(self, candidate: Candidate, error: str) -> None:
        """A break after the first chunk still counts against the deployment."""
        self._finish(candidate, ok=False, error=error)
        await self._breakers.record_failure(candidate.key, candidate.breaker)

    def _finish(self, candidate: Candidate, *, ok: bool, error: str | None = None) -> None:
        if self._finished:
            return
        self._finished = True
        seconds = self._clock() - self._opened_at
        self._health.finished(candidate.key, ok=ok, seconds=seconds, error=error)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._upstream is not None:
            await _close(self._upstream)


async def _close(stream: AsyncIterator[ChatChunk]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


__all__ = ["ChatStream"]
