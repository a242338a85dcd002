"""The one function that builds the breaker store ``router.breaker_store`` names."""

from __future__ import annotations

import time
from collections.abc import Callable

from switchyard.resilience.breaker import BreakerStore, MemoryBreakers
from switchyard.resilience.settings import BreakerStoreSettings


def build_breaker_store(
    settings: BreakerStoreSettings, clock: Callable[[], float] = time.monotonic
) -> BreakerStore:
    """The configured store. ``clock`` drives the in-memory store; Redis uses its own ``TIME``
    (replicas' monotonic clocks are not comparable)."""
    if settings.backend == "memory":
        return MemoryBreakers(clock)
    from switchyard.resilience.redis_breakers import RedisBreakers  # the optional extra

    return RedisBreakers(
        settings.url,
        prefix=settings.prefix,
        timeout=settings.timeout_seconds,
        trial_lease=settings.trial_lease_seconds,
    )


__all__ = ["build_breaker_store"]
