"""The Gateway's side of one streamed request: the same stages as a plain one, spread over time.

:class:`~switchyard.chat_stream.ChatStream` relays chunks and reports to this object, which
decides and accounts:

- ``open``: route and attempt (failover, hedging, context-window fallback, through the same
  Gateway function as a plain request) until a deployment yields its first chunk: time to
  first token and the deployment committed to are known here;
- ``leg_ended``: a leg's verdict for its deployment's health and breaker;
- ``continuation``: after a break, with ``mid_stream_failover`` on the alias, the next
  deployment is asked to continue (see :mod:`switchyard.midstream`);
- ``totals``: usage and cost summed over the legs (:class:`~switchyard.accounting.StreamAccount`);
- ``finished``: settle and record: the stream's one
  :class:`~switchyard.records.record.RequestRecord`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from switchyard.accounting import StreamAccount, served_by
from switchyard.chat_stream import Leg, close_stream
from switchyard.errors import SwitchyardError
from switchyard.midstream import (
    Transcript,
    can_continue,
    continuation_request,
    estimated_usage,
    next_candidates,
)
from switchyard.records.record import AttemptRecord, RequestRecord
from switchyard.routing.attempts import AttemptRunner, Outcome
from switchyard.routing.candidate import Candidate
from switchyard.routing.router import AliasRoute, for_candidate
from switchyard.routing.tokens import TokenCounter
from switchyard.types import ChatChunk, ChatRequest, Cost, ServedBy, StreamFailover, Usage

if TYPE_CHECKING:
    from switchyard.telemetry.spans import GatewayTracer

Opened = tuple[AsyncIterator[ChatChunk], ChatChunk | None]
Attempt = Callable[[Sequence[Candidate]], Awaitable[Outcome[Opened]]]
# the Gateway's route-and-attempt stage: (request, route, attempt) -> the outcome and the
# candidates it chose from (after any context-window fallback)
RouteAndAttempt = Callable[
    [ChatRequest, AliasRoute, Attempt], Awaitable[tuple[Outcome[Opened], Sequence[Candidate]]]
]


@dataclass(slots=True)
class GatewayStream:
    """Implements :class:`~switchyard.chat_stream.StreamLifecycle` for one request."""

    request: ChatRequest
    route: AliasRoute
    record: RequestRecord
    deadline: float
    runner: AttemptRunner
    route_and_attempt: RouteAndAttempt
    end: Callable[[RequestRecord, BaseException | None], None]  # the Gateway's record stage
    tokens: TokenCounter
    clock: Callable[[], float] = time.monotonic
    # the limits-and-budget stage (the Gateway's), run first when the stream opens; it returns
    # the tokens charged per attempt to a deployment's own limit
    admit: Callable[[], Awaitable[int]] | None = None
    tracer: GatewayTracer | None = None  # with tracing on: each attempt's span
    estimate: int = 0
    served_by: ServedBy | None = None
    account: StreamAccount = field(default_factory=StreamAccount)
    candidates: Sequence[Candidate] = ()
    broken: set[str] = field(default_factory=set)
    failovers: list[StreamFailover] = field(default_factory=list)

    async def open(self) -> Leg:
        if self.admit is not None:
            self.estimate = await self.admit()
        outcome, self.candidates = await self.route_and_attempt(
            self.request, self.route, lambda candidates: self._attempt(candidates, self.request)
        )
        self.served_by = served_by(outcome, lambda opened: None)
        self.served_by.rate_limits = self.record.rate_limits
        self.record.ttft_ms = (time.perf_counter() - self.record.started) * 1000.0
        return self._leg(outcome, self.request, text_from=0)

    async def _attempt(
        self, candidates: Sequence[Candidate], request: ChatRequest
    ) -> Outcome[Opened]:
        async def open_stream(candidate: Candidate) -> Opened:
            upstream = candidate.provider.stream(for_candidate(request, candidate))
            try:
                first = await anext(upstream)
            except StopAsyncIteration:
                return upstream, None
            except BaseException:
                await close_stream(upstream)
                raise
            return upstream, first

        def first_token_limit(candidate: Candidate) -> float:
            return candidate.timeout.first_token or candidate.timeout.total

        async def discard(opened: Opened) -> None:  # a hedge that lost the race
            await close_stream(opened[0])

        return await self.runner.run(
            candidates,
            open_stream if self.tracer is None else self.tracer.attempt(self.record, open_stream),
            deadline=self.deadline,
            attempt_timeout=first_token_limit,
            streaming=True,
            hedge=self.route.hedge,
            discard=discard,
            tokens=self.estimate,
        )

    def _leg(
        self,
        outcome: Outcome[Opened],
        request: ChatRequest,
        *,
        text_from: int,
        marker: StreamFailover | None = None,
    ) -> Leg:
        upstream, first = outcome.value
        candidate, now = outcome.candidate, self.clock()
        if outcome.errors:
            self.record.attempts.extend(AttemptRecord.failed(e) for e in outcome.errors)
        if outcome.abandoned:
            self.record.attempts.extend(
                AttemptRecord(a.candidate.key, "abandoned") for a in outcome.abandoned
            )
        self.record.upstream_ms += outcome.upstream_seconds * 1000.0
        return Leg(
            candidate,
            request,
            upstream,
            first,
            opened_at=now - outcome.seconds,
            ends=min(self.deadline, now + candidate.timeout.total),
            text_from=text_from,
            marker=marker,
        )

    async def leg_ended(self, leg: Leg, error: SwitchyardError | None) -> None:
        if leg.finished:
            return
        leg.finished = True
        candidate = leg.candidate
        seconds = self.clock() - leg.opened_at
        health = self.runner.health
        if error is None:
            health.finished(candidate.key, ok=True, seconds=seconds)
            self.record.attempts.append(AttemptRecord(candidate.key, "ok"))
            return
        health.finished(candidate.key, ok=False, seconds=seconds, error=str(error))
        self.record.attempts.append(AttemptRecord.failed(error))
        await self.runner.breakers.record_failure(candidate.key, candidate.breaker)

    async def continuation(
        self, leg: Leg, error: SwitchyardError, transcript: Transcript
    ) -> Leg | None:
        if not self.route.mid_stream_failover or not can_continue(self.request, transcript, error):
            return None
        self.broken.add(leg.candidate.key)
        rest = next_candidates(self.candidates, leg.candidate, self.broken)
        if not rest:
            return None
        partial = transcript.text
        produced = self.tokens.count_text(partial, leg.candidate.model) if partial else 0
        request = continuation_request(self.request, partial, produced)
        try:
            outcome = await self._attempt(rest, request)
        except SwitchyardError:
            return None
        self._settle_leg(leg, partial[leg.text_from :])
        marker = StreamFailover(
            from_deployment=leg.candidate.key,
            to_deployment=outcome.candidate.key,
            reason=str(error),
        )
        self.failovers.append(marker)
        return self._leg(outcome, request, text_from=len(partial), marker=marker)

    def _settle_leg(self, leg: Leg, text: str) -> None:
        """Fold a finished or broken leg's usage (reported, or else counted) into the total."""
        if leg.usage is not None:
            self.account.add_leg(leg.candidate, leg.usage)
        else:
            usage = estimated_usage(leg.request, text, leg.candidate, self.tokens)
            self.account.add_leg(leg.candidate, usage, estimated=True)

    def totals(self, leg: Leg, usage: Usage) -> tuple[Usage, Cost | None]:
        return self.account.with_leg(leg.candidate, usage)

    def finished(
        self, leg: Leg | None, transcript: Transcript, error: BaseException | None
    ) -> None:
        record = self.record
        if leg is not None:
            if not leg.finished:  # the caller went away
                leg.finished = True
                self.runner.health.abandoned(leg.candidate.key)
                record.attempts.append(AttemptRecord(leg.candidate.key, "abandoned"))
            self._settle_leg(leg, transcript.text[leg.text_from :])
            record.provider, record.model = leg.candidate.provider.name, leg.candidate.model
            record.usage, record.cost = self.account.usage, self.account.cost
            record.priced, record.usage_estimated = self.account.priced, self.account.estimated
        if self.served_by is not None:
            record.hedged = self.served_by.hedged
        record.failovers = self.failovers
        if self.tracer is not None:
            self.tracer.stream_finished(record, transcript)
        self.end(record, error)


__all__ = ["GatewayStream", "Opened"]
