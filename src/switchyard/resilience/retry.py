"""When to try again: exponential backoff with full jitter that honours ``Retry-After``."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from switchyard.error_replies import RETRY_AFTER_CEILING, sane_retry_after


@dataclass(slots=True)
class RetryPolicy:
    """Delays between passes over a request's candidate deployments.

    Pass ``n`` (0-based) waits a uniformly random time in ``[0, min(maximum, initial *
    multiplier**n)]`` ("full jitter", so replicas that failed together do not retry together).
    When the upstream said how long to wait (``Retry-After`` / ``retry-after-ms``), the delay is
    at least that long, even above ``maximum``: retrying earlier would only be refused again.
    The gateway waits that long only up to ``max_retry_after`` seconds: an upstream that asks
    for longer is not retried (see :meth:`wait`).
    """

    retries: int = 2
    initial: float = 0.5
    maximum: float = 8.0
    multiplier: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    max_retry_after: float = 60.0

    def ceiling(self, attempt: int) -> float:
        return min(self.maximum, self.initial * self.multiplier**attempt)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        jittered = self.rng.uniform(0.0, self.ceiling(attempt))
        if retry_after is not None:
            return max(jittered, retry_after)
        return jittered

    def wait(self, attempt: int, retry_after: float | None, remaining: float) -> float | None:
        """The delay before pass ``attempt + 1``, or None when another pass is not worth
        waiting for: the upstream asked for more than ``max_retry_after`` seconds, or the wait
        would use up the ``remaining`` seconds of the request's deadline."""
        retry_after = sane_retry_after(retry_after)
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        delay = self.delay(attempt, retry_after)
        return delay if delay < remaining else None


__all__ = ["RETRY_AFTER_CEILING", "RetryPolicy", "sane_retry_after"]
