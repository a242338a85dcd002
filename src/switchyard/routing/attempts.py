"""The failover loop: try candidates in order, back off between passes, stop at the deadline.

For each candidate: ask its breaker, run the call under the attempt timeout (capped by what is
left of the request's deadline), and record the outcome. A retryable error moves on to the next
candidate at once; when every candidate has been tried, the loop waits (full-jitter backoff, at
least the upstream's ``Retry-After``) and makes another pass, at most ``policy.retries`` more
passes. It never sleeps into the deadline and never waits on a ``Retry-After`` longer than
``policy.max_retry_after``: it gives up instead and raises the last error, whose
``retry_after`` (finite, at most a day) tells the caller when to come back. A non-retryable
error (the caller's 4xx) ends the loop at once: another deployment would refuse the same
request.

An alias with ``hedge`` settings runs each pass through
:func:`~switchyard.routing.hedging.hedged_pass` instead: the same attempts, some of them
concurrent. Either way every attempt is one :meth:`AttemptRunner.attempt`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

from switchyard.config.schema import HedgeSettings
from switchyard.errors import (
    DeadlineExceeded,
    NoHealthyDeployment,
    RateLimited,
    SwitchyardError,
    Timeout,
)
from switchyard.providers.headers_deadline import HeadersWithin
from switchyard.resilience.breaker import BreakerStore
from switchyard.resilience.retry import RetryPolicy, sane_retry_after
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard
from switchyard.routing.hedging import Abandoned, HedgeResult, hedge_delay, hedged_pass
from switchyard.routing.tally import Tally, Tried

T = TypeVar("T")


@dataclass(slots=True)
class Outcome(Generic[T]):
    value: T
    candidate: Candidate
    attempts: int  # every attempt started, hedges and cancelled ones included
    upstream_seconds: float
    errors: list[SwitchyardError] = field(default_factory=list)
    seconds: float = 0.0  # the winning attempt's own time
    hedged: bool = False  # the winner was a hedge (see :mod:`switchyard.routing.hedging`)
    abandoned: list[Abandoned[T]] = field(default_factory=list)


class DeadlineReached(Exception):
    """The request's deadline (not the attempt's own limit) ran out during an attempt."""


# A deployment's own limits (``deployments[].limits``): (candidate, tokens) -> None when it may
# be tried now (and is charged), else the seconds until it has room
DeploymentGate = Callable[[Candidate, int], Awaitable[float | None]]


@dataclass(slots=True)
class AttemptRunner:
    policy: RetryPolicy
    breakers: BreakerStore
    health: HealthBoard
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    gate: DeploymentGate | None = None

    async def run(
        self,
        candidates: Sequence[Candidate],
        call: Callable[[Candidate], Awaitable[T]],
        *,
        deadline: float,
        attempt_timeout: Callable[[Candidate], float],
        streaming: bool = False,
        hedge: HedgeSettings | None = None,
        discard: Callable[[T], Awaitable[None]] | None = None,
        tokens: int = 0,
    ) -> Outcome[T]:
        """Run ``call`` on candidates until one succeeds; raise the error that best explains
        the failure otherwise. ``deadline`` is a ``clock()`` value. With ``streaming``, success
        means the first chunk arrived: its time is recorded as time-to-first-token and the
        stream's owner records the attempt's end. With ``hedge``, each pass is a
        :func:`~switchyard.routing.hedging.hedged_pass`; ``discard`` releases the answer of an
        attempt that lost the race. ``tokens`` is what each attempt charges a deployment's own
        token limit (see ``gate``); a deployment over its limit is skipped like one that
        answered 429 (so when every one is, the loop waits, then gives up with a 429)."""
        tally = Tally()
        try:
            for round_ in range(self.policy.retries + 1):
                before = len(tally.errors)
                if hedge is None:
                    outcome = await self._one_by_one(
                        candidates, call, tally, deadline, attempt_timeout, streaming, tokens
                    )
                else:
                    result = await hedged_pass(
                        candidates,
                        tally,
                        allow=lambda c: self._allow(c, tokens),
                        attempt=lambda c: self.attempt(
                            c,
                            call,
                            deadline=deadline,
                            limit=attempt_timeout(c),
                            streaming=streaming,
                        ),
                        delay=lambda c: hedge_delay(hedge, self.health, c, streaming=streaming),
                        sleep=self.sleep,
                        max_extra=hedge.max_extra,
                        discard=discard,
                        abandon=self.health.abandoned if streaming else None,
                    )
                    outcome = None if result is None else _won(result, tally)
                if outcome is not None:
                    return outcome
                round_errors = tally.errors[before:]
                if not round_errors:
                    break  # every candidate was refused by its breaker
                if round_ == self.policy.retries:
                    break
                delay = self.policy.wait(
                    round_, _longest_retry_after(round_errors), deadline - self.clock()
                )
                if delay is None:
                    break  # the upstream asks for longer than we wait, or the deadline is near
                await self.sleep(delay)
        except DeadlineReached:
            raise _with_attempts(_deadline(tally.errors), tally.errors) from None
        except SwitchyardError as error:  # the caller's error, ending the request at once
            _with_attempts(error, [*tally.errors, error])
            raise
        raise _with_attempts(_exhausted(candidates, tally.errors, tally.attempts), tally.errors)

    async def _one_by_one(
        self,
        candidates: Sequence[Candidate],
        call: Callable[[Candidate], Awaitable[T]],
        tally: Tally,
        deadline: float,
        attempt_timeout: Callable[[Candidate], float],
        streaming: bool,
        tokens: int = 0,
    ) -> Outcome[T] | None:
        """One pass without hedging: each candidate its breaker and its limits admit, in
        order."""
        for candidate in candidates:
            if not await self.breakers.allow(candidate.key, candidate.breaker):
                continue
            if self.gate is not None:
                wait = await self.gate(candidate, tokens)
                if wait is not None:
                    await self.breakers.release(candidate.key, candidate.breaker)
                    tally.errors.append(_over_limit(candidate, wait))
                    continue
            tally.attempts += 1
            tried = await self.attempt(
                candidate,
                call,
                deadline=deadline,
                limit=attempt_timeout(candidate),
                streaming=streaming,
            )
            tally.upstream += tried.seconds
            if tried.error is None:
                return Outcome(
                    cast(T, tried.value),
                    candidate,
                    tally.attempts,
                    tally.upstream,
                    tally.errors,
                    seconds=tried.seconds,
                )
            tally.errors.append(tried.error)
        return None

    async def _allow(self, candidate: Candidate, tokens: int) -> bool:
        """A hedged pass's admission: the breaker, then the deployment's own limits."""
        if not await self.breakers.allow(candidate.key, candidate.breaker):
            return False
        if self.gate is not None and await self.gate(candidate, tokens) is not None:
            await self.breakers.release(candidate.key, candidate.breaker)
            return False
        return True

    async def attempt(
        self,
        candidate: Candidate,
        call: Callable[[Candidate], Awaitable[T]],
        *,
        deadline: float,
        limit: float,
        streaming: bool,
    ) -> Tried[T]:
        """One attempt its breaker has admitted: ``call`` under ``limit`` seconds (capped by
        the deadline), its verdict recorded in the breaker and the health board.

        A call that is not streamed must also see its response headers within the
        deployment's ``first_token`` (when set; see :mod:`switchyard.providers.headers_deadline`).

        Returns the answer or a retryable error. Raises :class:`DeadlineReached` when the
        deadline ran out, a non-retryable error as it is, and ``CancelledError`` when cancelled
        (a hedge that lost): those leave no verdict on the deployment (breaker released)."""
        key, settings = candidate.key, candidate.breaker
        remaining = deadline - self.clock()
        if remaining <= 0:
            await self.breakers.release(key, settings)
            raise DeadlineReached
        self.health.started(key)
        started = time.perf_counter()
        try:
            within = None if streaming else candidate.timeout.first_token
            async with asyncio.timeout(min(limit, remaining)):
                if within is None:
                    value = await call(candidate)
                else:
                    with HeadersWithin(within):
                        value = await call(candidate)
        except TimeoutError:
            elapsed = time.perf_counter() - started
            if remaining <= limit:
                self.health.abandoned(key)
                await self.breakers.release(key, settings)
                raise DeadlineReached from None
            error: SwitchyardError = Timeout(
                f"no answer within {limit:g}s", provider=candidate.provider.name
            )
        except SwitchyardError as exc:
            elapsed = time.perf_counter() - started
            error = exc
        except BaseException:
            self.health.abandoned(key)
            await self.breakers.release(key, settings)
            raise
        else:
            elapsed = time.perf_counter() - started
            if streaming:
                self.health.first_token(key, elapsed)
            else:
                self.health.finished(key, ok=True, seconds=elapsed)
            await self.breakers.record_success(key, settings)
            return Tried(candidate, elapsed, value=value)
        error.deployment = key
        if not error.retryable:
            self.health.abandoned(key)
            await self.breakers.release(key, settings)
            raise error
        self.health.finished(key, ok=False, seconds=elapsed, error=str(error))
        if isinstance(error, RateLimited) and not settings.count_rate_limits:
            await self.breakers.release(key, settings)
        else:
            await self.breakers.record_failure(key, settings)
        return Tried(candidate, elapsed, error=error)


def _over_limit(candidate: Candidate, wait: float) -> RateLimited:
    """A deployment over its configured limit: skipped as if it had answered 429."""
    error = RateLimited(
        f"{candidate.key} is over its configured limit; room in {wait:.3g}s",
        provider=candidate.provider.name,
        retry_after=wait,
    )
    error.deployment = candidate.key
    return error


def _won(result: HedgeResult[T], tally: Tally) -> Outcome[T]:
    winner = result.winner
    return Outcome(
        cast(T, winner.value),
        winner.candidate,
        tally.attempts,
        tally.upstream,
        tally.errors,
        seconds=winner.seconds,
        hedged=result.hedged,
        abandoned=result.abandoned,
    )


def _with_attempts(error: SwitchyardError, errors: list[SwitchyardError]) -> SwitchyardError:
    """``error`` carrying every failed attempt's error (what the request record lists)."""
    if not error.attempts:
        error.attempts = list(errors)
    return error


def _longest_retry_after(errors: list[SwitchyardError]) -> float | None:
    """The longest sane wait a pass's errors asked for (None: none asked)."""
    return max(
        (s for s in (sane_retry_after(e.retry_after) for e in errors) if s is not None),
        default=None,
    )


def _deadline(errors: list[SwitchyardError]) -> DeadlineExceeded:
    tried = f" after {len(errors)} failed attempt(s); last: {errors[-1]}" if errors else ""
    return DeadlineExceeded(f"the request's deadline ran out{tried}")


def _exhausted(
    candidates: Sequence[Candidate], errors: list[SwitchyardError], attempts: int
) -> SwitchyardError:
    if not errors:
        names = ", ".join(c.key for c in candidates)
        return NoHealthyDeployment(
            f"no healthy deployment: every candidate's circuit breaker is open ({names})"
        )
    last = errors[-1]
    summary = "; ".join(f"{e.provider or '?'}: {e.message}" for e in errors[-4:])
    final = type(last)(
        f"all {attempts} attempt(s) failed: {summary}",
        provider=last.provider,
        retry_after=sane_retry_after(last.retry_after),
        upstream_status=last.upstream_status,
    )
    final.__cause__ = last
    return final


__all__ = ["AttemptRunner", "DeadlineReached", "DeploymentGate", "Outcome"]
