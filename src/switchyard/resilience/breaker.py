"""Per-deployment circuit breakers (Envoy's outlier detection, stated precisely).

States: ``closed`` admits every request. It opens when either
  - ``failure_threshold`` consecutive provider-side failures happened, or
  - the error rate over the last ``window_seconds`` reached ``error_rate_threshold`` with at
    least ``min_requests`` requests in that window (when an error-rate threshold is set).
``open`` admits nothing until ``recovery_timeout`` seconds have passed, then turns
``half_open`` and admits exactly one trial request. The trial's success closes it (and clears
its history); its failure opens it again for another ``recovery_timeout``.

Only provider-side failures count: 5xx, timeouts, connection errors, malformed replies, and
429 when ``count_rate_limits`` is set. A caller's own 4xx never does. The clock is injected, so
every transition is testable without sleeping.

State lives in a :class:`BreakerStore`: in memory by default (:class:`MemoryBreakers`), or in
Redis so that every replica sees the same state (``switchyard.resilience.redis_breakers``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel

from switchyard.resilience.deployment_records import DEFAULT_MAX_DIRECT, DeploymentRecords
from switchyard.resilience.settings import BreakerSettings

State = Literal["closed", "open", "half_open"]


@dataclass(slots=True)
class CircuitBreaker:
    """One deployment's breaker: a pure state machine over an injected clock."""

    settings: BreakerSettings = field(default_factory=BreakerSettings)
    clock: Callable[[], float] = time.monotonic
    state: State = "closed"
    consecutive_failures: int = 0
    opened_at: float = 0.0
    trial_in_flight: bool = False
    outcomes: deque[tuple[float, bool]] = field(default_factory=deque)

    def allow(self) -> bool:
        """May a request go to this deployment now? (A half-open breaker admits one trial.)"""
        if self.state == "closed":
            return True
        if self.state == "open":
            if self.clock() - self.opened_at < self.settings.recovery_timeout:
                return False
            self.state = "half_open"
            self.trial_in_flight = False
        if self.trial_in_flight:
            return False
        self.trial_in_flight = True
        return True

    def record_success(self) -> None:
        if self.state != "closed":
            self.outcomes.clear()
        self.state = "closed"
        self.consecutive_failures = 0
        self.trial_in_flight = False
        self._remember(ok=True)

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        self._remember(ok=False)
        if (
            self.state == "half_open"
            or self.consecutive_failures >= self.settings.failure_threshold
            or self._error_rate_exceeded()
        ):
            self.state = "open"
            self.opened_at = self.clock()
        self.trial_in_flight = False

    def release(self) -> None:
        """An admitted request ended without a verdict (the caller's error, a cancellation)."""
        self.trial_in_flight = False

    def reset(self) -> None:
        self.state = "closed"
        self.consecutive_failures = 0
        self.trial_in_flight = False
        self.outcomes.clear()

    def error_rate(self) -> float | None:
        self._forget_old()
        if not self.outcomes:
            return None
        return sum(1 for _, ok in self.outcomes if not ok) / len(self.outcomes)

    def _remember(self, *, ok: bool) -> None:
        if self.settings.error_rate_threshold is None:
            return
        self.outcomes.append((self.clock(), ok))
        self._forget_old()

    def _forget_old(self) -> None:
        horizon = self.clock() - self.settings.window_seconds
        while self.outcomes and self.outcomes[0][0] < horizon:
            self.outcomes.popleft()

    def _error_rate_exceeded(self) -> bool:
        threshold = self.settings.error_rate_threshold
        if threshold is None or len(self.outcomes) < self.settings.min_requests:
            return False
        rate = self.error_rate()
        return rate is not None and rate >= threshold


class BreakerView(BaseModel):
    """What ``GET /api/v1/circuit-breakers`` shows of one breaker."""

    key: str
    state: State
    consecutive_failures: int
    error_rate: float | None = None
    opened_seconds_ago: float | None = None
    retry_in_seconds: float | None = None


class BreakerStore(Protocol):
    """Where breaker state lives; every method is async so a shared store (Redis) fits."""

    async def allow(self, key: str, settings: BreakerSettings) -> bool: ...

    async def record_success(self, key: str, settings: BreakerSettings) -> None: ...

    async def record_failure(self, key: str, settings: BreakerSettings) -> None: ...

    async def release(self, key: str, settings: BreakerSettings) -> None: ...

    async def reset(self, key: str) -> bool: ...

    async def views(self, keys: list[str]) -> list[BreakerView]: ...

    async def aclose(self) -> None:
        """Release connections (the gateway calls it for a store it built)."""


class MemoryBreakers:
    """Breakers of this process (the default). Those of the deployments in ``keep`` (the
    configured ones) are kept; those of other ``provider/model`` names, at most ``max_direct``,
    least recently used first out (an evicted breaker starts closed again)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        keep: Iterable[str] = (),
        max_direct: int = DEFAULT_MAX_DIRECT,
    ) -> None:
        self.clock = clock
        self.breakers: DeploymentRecords[CircuitBreaker] = DeploymentRecords(keep, max_direct)

    def get(self, key: str, settings: BreakerSettings) -> CircuitBreaker:
        breaker = self.breakers.get(key)
        if breaker is None:
            breaker = self.breakers.add(key, CircuitBreaker(settings, self.clock))
        return breaker

    async def allow(self, key: str, settings: BreakerSettings) -> bool:
        return self.get(key, settings).allow()

    async def record_success(self, key: str, settings: BreakerSettings) -> None:
        self.get(key, settings).record_success()

    async def record_failure(self, key: str, settings: BreakerSettings) -> None:
        self.get(key, settings).record_failure()

    async def release(self, key: str, settings: BreakerSettings) -> None:
        self.get(key, settings).release()

    async def reset(self, key: str) -> bool:
        breaker = self.breakers.get(key)
        if breaker is None:
            return False
        breaker.reset()
        return True

    async def views(self, keys: list[str]) -> list[BreakerView]:
        now = self.clock()
        views = []
        for key in keys:
            breaker = self.breakers.get(key)
            if breaker is None:
                views.append(BreakerView(key=key, state="closed", consecutive_failures=0))
                continue
            is_open = breaker.state == "open"
            views.append(
                BreakerView(
                    key=key,
                    state=breaker.state,
                    consecutive_failures=breaker.consecutive_failures,
                    error_rate=breaker.error_rate(),
                    opened_seconds_ago=now - breaker.opened_at if is_open else None,
                    retry_in_seconds=(
                        max(breaker.settings.recovery_timeout - (now - breaker.opened_at), 0.0)
                        if is_open
                        else None
                    ),
                )
            )
        return views

    async def aclose(self) -> None:
        return None


__all__ = [
    "BreakerStore",
    "BreakerView",
    "CircuitBreaker",
    "MemoryBreakers",
    "State",
]
