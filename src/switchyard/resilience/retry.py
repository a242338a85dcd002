"""When to try again: exponential backoff with full jitter that honours ``Retry-After``."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class RetryPolicy:
    """Delays between passes over a request's candidate deployments.

    Pass ``n`` (0-based) waits a uniformly random time in ``[0, min(maximum, initial *
    multiplier**n)]`` ("full jitter", so replicas that failed together do not retry together).
    When the upstream said how long to wait (``Retry-After`` / ``retry-after-ms``), the delay is
    at least that long, even above ``maximum``: retrying earlier would only be refused again.
    """

    retries: int = 2
    initial: float = 0.5
    maximum: float = 8.0
    multiplier: float = 2.0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, attempt: int) -> float:
        return min(self.maximum, self.initial * self.multiplier**attempt)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        jittered = self.rng.uniform(0.0, self.ceiling(attempt))
        if retry_after is not None:
            return max(jittered, retry_after)
        return jittered


__all__ = ["RetryPolicy"]
