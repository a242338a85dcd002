"""Per-deployment circuit breakers (consecutive-failure ejection, as Envoy's outlier detection).

States: ``closed`` admits every request. ``failure_threshold`` consecutive provider-side failures
open it: it admits nothing until ``recovery_timeout`` seconds have passed, then turns
``half_open`` and admits exactly one trial request. The trial's success closes it; its failure
opens it again for another ``recovery_timeout``. Callers' own mistakes (4xx other than 429) are
never recorded as failures. The clock is injected, so every transition is testable without
sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass(slots=True)
class CircuitBreaker:
    failure_threshold: int = 5
    recovery_timeout: float = 30.0
    clock: Callable[[], float] = time.monotonic
    state: State = "closed"
    consecutive_failures: int = 0
    opened_at: float = 0.0
    trial_in_flight: bool = False

    def allow(self) -> bool:
        """May a request go to this deployment now? (A half-open breaker admits one trial.)"""
        if self.state == "closed":
            return True
        if self.state == "open":
            if self.clock() - self.opened_at < self.recovery_timeout:
                return False
            self.state = "half_open"
            self.trial_in_flight = False
        if self.trial_in_flight:
            return False
        self.trial_in_flight = True
        return True

    def record_success(self) -> None:
        self.state = "closed"
        self.consecutive_failures = 0
        self.trial_in_flight = False

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        if self.state == "half_open" or self.consecutive_failures >= self.failure_threshold:
            self.state = "open"
            self.opened_at = self.clock()
        self.trial_in_flight = False

    def release(self) -> None:
        """An admitted request ended without a verdict (the caller's error, a cancellation)."""
        self.trial_in_flight = False


@dataclass(slots=True)
class BreakerBoard:
    """The breakers of every deployment, created on first use with that deployment's settings."""

    clock: Callable[[], float] = time.monotonic
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)

    def get(self, key: str, failure_threshold: int, recovery_timeout: float) -> CircuitBreaker:
        breaker = self.breakers.get(key)
        if breaker is None:
            breaker = CircuitBreaker(failure_threshold, recovery_timeout, self.clock)
            self.breakers[key] = breaker
        return breaker


__all__ = ["BreakerBoard", "CircuitBreaker", "State"]
