"""Hedged requests: when the deployment we are waiting on is slow, ask the next one too.

Opt-in per alias (``hedge: {delay: 0.5, max_extra: 1}``). One pass over the candidates runs
like this (see :func:`hedged_pass`):

- the first admitted candidate starts;
- whenever ``delay`` seconds pass after the latest start without an answer, and fewer than
  ``1 + max_extra`` attempts are in flight, the next admitted candidate starts as well: a
  *hedge*. For a stream, "an answer" is the first chunk;
- the first **success** wins. Every other attempt still in flight is cancelled: its task is
  cancelled, which closes its upstream connection (or stream), and its breaker and in-flight
  count are released without a verdict. One that had already answered (a race to the finish)
  is kept as an abandoned attempt *with* its answer, so its usage can be accounted;
- a retryable failure while another attempt is still running does not fail the request: the
  pass waits for the others (and the hedge timer). When nothing is in flight any more, the next
  candidate starts at once (plain failover). A non-retryable failure (the caller's 4xx) or the
  request's deadline ends the pass at once, cancelling the rest.

Every attempt goes through :meth:`AttemptRunner.attempt`, so breakers, per-attempt timeouts,
health and the deadline work exactly as without hedging; backoff between passes stays with
the runner. The pass gets from the runner only the few callables it needs (admit a candidate,
attempt it, the delay before hedging it, sleep), not the runner itself.

``delay: "p95"`` (or any ``"pNN"``) is the percentile of the recent successful latencies of the
deployment most recently started (of its time to first token, for streams) from the
:class:`~switchyard.routing.health.HealthBoard`, never below ``min_delay``; with fewer than
``MIN_SAMPLES`` measurements it is ``default_delay``. The non-streamed latencies on the board
include whole streams when a deployment serves both kinds, which makes the delay larger (more
conservative), not smaller.

A cancelled upstream request may still be billed by its provider for the tokens it processed
before the connection closed; the gateway cannot see that usage, so it is not accounted.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from switchyard.config.schema import HedgeSettings
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard
from switchyard.routing.tally import Tally, Tried

T = TypeVar("T")

MIN_SAMPLES = 5  # fewer measurements than this: the percentile says too little


def hedge_delay(
    settings: HedgeSettings, health: HealthBoard, candidate: Candidate, *, streaming: bool
) -> float:
    """Seconds to wait on ``candidate`` before starting a hedge."""
    if isinstance(settings.delay, float | int):
        return float(settings.delay)
    match = re.fullmatch(r"p(\d+)", settings.delay)
    assert match is not None  # the settings' pattern guarantees it
    q = int(match.group(1)) / 100
    deployment = health.get(candidate.key)
    if streaming:
        samples = list(deployment.ttfts)
    else:
        samples = [seconds for _, ok, seconds in deployment.recent if ok]
    if len(samples) < MIN_SAMPLES:
        return settings.default_delay
    samples.sort()
    observed = samples[min(int(q * len(samples)), len(samples) - 1)]
    return max(observed, settings.min_delay)


@dataclass(slots=True)
class Abandoned(Generic[T]):
    """An attempt that lost a hedged race: cancelled in flight (``value`` is None), or one that
    had answered too late (``value`` is its answer, discarded but paid for)."""

    candidate: Candidate
    value: T | None = None


@dataclass(slots=True)
class HedgeResult(Generic[T]):
    winner: Tried[T]
    hedged: bool  # the winner started while an earlier attempt was still in flight
    abandoned: list[Abandoned[T]]


@dataclass(slots=True)
class _Running:
    candidate: Candidate
    hedge: bool


@dataclass(slots=True)
class _HedgedPass(Generic[T]):
    candidates: Sequence[Candidate]
    tally: Tally
    allow: Callable[[Candidate], Awaitable[bool]]
    attempt: Callable[[Candidate], Awaitable[Tried[T]]]
    delay: Callable[[Candidate], float]
    sleep: Callable[[float], Awaitable[None]]
    max_extra: int
    discard: Callable[[T], Awaitable[None]] | None
    abandon: Callable[[str], None] | None
    running: dict[asyncio.Task[Tried[T]], _Running] = field(default_factory=dict)
    abandoned: list[Abandoned[T]] = field(default_factory=list)
    timer: asyncio.Future[None] | None = None
    next_index: int = 0
    latest: Candidate | None = None

    async def run(self) -> HedgeResult[T] | None:
        started = time.perf_counter()
        try:
            return await self._race()
        finally:
            self._stop_timer()
            await self._cancel_the_rest()
            self.tally.upstream += time.perf_counter() - started

    async def _race(self) -> HedgeResult[T] | None:
        while True:
            if not self.running and not await self._start():
                return None  # every candidate tried (or refused by its breaker)
            self._arm_timer()
            waiting: set[asyncio.Future[Any]] = set(self.running)
            if self.timer is not None:
                waiting.add(self.timer)
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            finished = [task for task in self.running if task in done]  # in start order
            winner: tuple[Tried[T], bool] | None = None
            raised: list[BaseException] = []
            for task in finished:
                running = self.running.pop(task)
                error = task.exception()
                if error is not None:
                    raised.append(error)  # non-retryable, or the deadline
                    continue
                tried = task.result()
                if tried.error is not None:
                    self.tally.errors.append(tried.error)
                elif winner is None:
                    winner = (tried, running.hedge)
                else:
                    await self._lost(tried)
            if winner is not None:
                return HedgeResult(winner[0], winner[1], self.abandoned)
            if raised:
                raise raised[0]
            if self.timer is not None and self.timer in done:
                self.timer = None
                await self._start()

    async def _start(self) -> bool:
        """Start the next candidate its breaker admits; False when none is left."""
        while self.next_index < len(self.candidates):
            candidate = self.candidates[self.next_index]
            self.next_index += 1
            if not await self.allow(candidate):
                continue
            self.tally.attempts += 1
            hedge = bool(self.running)  # started while another attempt is in flight
            self.running[asyncio.ensure_future(self.attempt(candidate))] = _Running(
                candidate, hedge
            )
            self.latest = candidate
            self._stop_timer()  # the delay counts from the latest start
            return True
        return False

    def _arm_timer(self) -> None:
        if (
            self.timer is not None
            or self.latest is None
            or self.next_index >= len(self.candidates)
            or len(self.running) > self.max_extra
        ):
            return
        self.timer = asyncio.ensure_future(self.sleep(self.delay(self.latest)))

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    async def _lost(self, tried: Tried[T]) -> None:
        """An attempt that answered after another had already won: release what it holds and
        keep its answer for the accounts."""
        value = tried.value
        if value is not None and self.discard is not None:
            await self.discard(value)
        if self.abandon is not None:  # an opened stream's owner would have recorded its end
            self.abandon(tried.candidate.key)
        self.abandoned.append(Abandoned(tried.candidate, value))

    async def _cancel_the_rest(self) -> None:
        if not self.running:
            return
        tasks = list(self.running)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        for task in tasks:
            candidate = self.running.pop(task).candidate
            if task.cancelled():
                self.abandoned.append(Abandoned(candidate))
            elif task.exception() is None:  # else it failed, and attempt() recorded that
                tried = task.result()
                if tried.error is None:
                    await self._lost(tried)  # it answered before the cancellation landed
                else:
                    self.tally.errors.append(tried.error)


async def hedged_pass(
    candidates: Sequence[Candidate],
    tally: Tally,
    *,
    allow: Callable[[Candidate], Awaitable[bool]],
    attempt: Callable[[Candidate], Awaitable[Tried[T]]],
    delay: Callable[[Candidate], float],
    sleep: Callable[[float], Awaitable[None]],
    max_extra: int,
    discard: Callable[[T], Awaitable[None]] | None = None,
    abandon: Callable[[str], None] | None = None,
) -> HedgeResult[T] | None:
    """One pass over ``candidates`` with hedging (see the module's docstring). Returns the
    winner, or None when every candidate failed with a retryable error (each one is in
    ``tally.errors``) or was refused by its breaker.

    ``allow`` asks a candidate's breaker; ``attempt`` runs one admitted attempt
    (:meth:`AttemptRunner.attempt`); ``delay`` is how long to wait on a candidate before
    hedging (:func:`hedge_delay`); ``sleep`` runs the hedge timer; at most ``1 + max_extra``
    attempts are in flight. An answer that lost is released: ``discard`` closes it (a stream
    opened too late), and ``abandon`` (streams) ends its deployment's in-flight record, which
    the stream's owner would otherwise have done."""
    return await _HedgedPass(
        candidates, tally, allow, attempt, delay, sleep, max_extra, discard, abandon
    ).run()


__all__ = ["Abandoned", "HedgeResult", "hedge_delay", "hedged_pass"]
