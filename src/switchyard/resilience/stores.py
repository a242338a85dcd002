"""The one function that builds the breaker store ``router.breaker_store`` names."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from switchyard.resilience.breaker import BreakerStore, MemoryBreakers
from switchyard.resilience.deployment_records import DEFAULT_MAX_DIRECT
from switchyard.resilience.settings import BreakerStoreSettings


def build_breaker_store(
    settings: BreakerStoreSettings,
    clock: Callable[[], float] = time.monotonic,
    *,
    keep: Iterable[str] = (),
    max_direct: int = DEFAULT_MAX_DIRECT,
) -> BreakerStore:
    """The configured store. ``clock`` drives the in-memory store; Redis uses its own ``TIME``
    (replicas' monotonic clocks are not comparable). The in-memory store keeps the breakers of
    the deployments in ``keep`` and at most ``max_direct`` others."""
    if settings.backend == "memory":
        return MemoryBreakers(clock, keep=keep, max_direct=max_direct)
    from switchyard.resilience.redis_breakers import RedisBreakers  # the optional extra

    return RedisBreakers(
        settings.url,
        prefix=settings.prefix,
        timeout=settings.timeout_seconds,
        trial_lease=settings.trial_lease_seconds,
    )


__all__ = ["build_breaker_store"]
