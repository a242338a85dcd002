"""The failover loop: try candidates in order, back off between passes, stop at the deadline.

For each candidate: ask its breaker, run the call under the attempt timeout (capped by what is
left of the request's deadline), and record the outcome. A retryable error moves on to the next
candidate at once; when every candidate has been tried, the loop waits (full-jitter backoff, at
least the upstream's ``Retry-After``) and makes another pass, at most ``policy.retries`` more
passes and never past the deadline. A non-retryable error (the caller's 4xx) ends the loop at
once: another deployment would refuse the same request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from switchyard.errors import (
    DeadlineExceeded,
    NoHealthyDeployment,
    RateLimited,
    SwitchyardError,
    Timeout,
)
from switchyard.resilience.breaker import BreakerStore
from switchyard.resilience.retry import RetryPolicy
from switchyard.routing.health import HealthBoard
from switchyard.routing.router import Candidate

T = TypeVar("T")


@dataclass(slots=True)
class Outcome(Generic[T]):
    value: T
    candidate: Candidate
    attempts: int
    upstream_seconds: float
    errors: list[SwitchyardError] = field(default_factory=list)


@dataclass(slots=True)
class AttemptRunner:
    policy: RetryPolicy
    breakers: BreakerStore
    health: HealthBoard
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def run(
        self,
        candidates: Sequence[Candidate],
        call: Callable[[Candidate], Awaitable[T]],
        *,
        deadline: float,
        attempt_timeout: Callable[[Candidate], float],
        streaming: bool = False,
    ) -> Outcome[T]:
        """Run ``call`` on candidates until one succeeds; raise the error that best explains
        the failure otherwise. ``deadline`` is a ``clock()`` value. With ``streaming``, success
        means the first chunk arrived: its time is recorded as time-to-first-token and the
        stream's owner records the attempt's end."""
        errors: list[SwitchyardError] = []
        attempts = 0
        upstream = 0.0
        for round_ in range(self.policy.retries + 1):
            round_errors: list[SwitchyardError] = []
            for candidate in candidates:
                key, settings = candidate.key, candidate.breaker
                if not await self.breakers.allow(key, settings):
                    continue
                remaining = deadline - self.clock()
                if remaining <= 0:
                    await self.breakers.release(key, settings)
                    raise _deadline(errors)
                limit = attempt_timeout(candidate)
                attempts += 1
                self.health.started(key)
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(min(limit, remaining)):
                        value = await call(candidate)
                except TimeoutError:
                    elapsed = time.perf_counter() - started
                    upstream += elapsed
                    if remaining <= limit:
                        self.health.abandoned(key)
                        await self.breakers.release(key, settings)
                        raise _deadline(errors) from None
                    error: SwitchyardError = Timeout(
                        f"no answer within {limit:g}s", provider=candidate.provider.name
                    )
                except SwitchyardError as exc:
                    elapsed = time.perf_counter() - started
                    upstream += elapsed
                    error = exc
                except BaseException:
                    self.health.abandoned(key)
                    await self.breakers.release(key, settings)
                    raise
                else:
                    elapsed = time.perf_counter() - started
                    upstream += elapsed
                    if streaming:
                        self.health.first_token(key, elapsed)
                    else:
                        self.health.finished(key, ok=True, seconds=elapsed)
                    await self.breakers.record_success(key, settings)
                    return Outcome(value, candidate, attempts, upstream, errors)
                if not error.retryable:
                    self.health.abandoned(key)
                    await self.breakers.release(key, settings)
                    raise error
                self.health.finished(key, ok=False, seconds=elapsed, error=str(error))
                if isinstance(error, RateLimited) and not settings.count_rate_limits:
                    await self.breakers.release(key, settings)
                else:
                    await self.breakers.record_failure(key, settings)
                errors.append(error)
                round_errors.append(error)
            if not round_errors:
                break  # every candidate was refused by its breaker
            if round_ == self.policy.retries:
                break
            retry_after = max(
                (e.retry_after for e in round_errors if e.retry_after is not None), default=None
            )
            delay = self.policy.delay(round_, retry_after)
            if self.clock() + delay >= deadline:
                break
            await self.sleep(delay)
        raise _exhausted(candidates, errors, attempts)


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
        retry_after=last.retry_after,
        upstream_status=last.upstream_status,
    )
    final.__cause__ = last
    return final


__all__ = ["AttemptRunner", "Outcome"]
