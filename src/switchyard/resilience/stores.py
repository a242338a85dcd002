"""``router.breaker_store`` in config, and the one function that builds the store it names."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.resilience.breaker import BreakerStore, MemoryBreakers
from switchyard.resilience.deployment_records import DEFAULT_MAX_DIRECT


class BreakerStoreSettings(BaseModel):
    """Where circuit-breaker state lives.

    ``memory`` (the default): each process has its own breakers. ``redis``: every replica
    shares them through ``url`` (needs the ``redis`` extra); time then comes from the Redis
    server, and an unreachable Redis fails open (requests are admitted, a WARNING is logged).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["memory", "redis"] = "memory"
    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = Field(default="switchyard:breaker:", min_length=1)
    timeout_seconds: float = Field(
        default=0.25, gt=0, description="Redis connect and reply timeout; past it, fail open"
    )
    trial_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="a half-open trial not reported within this long (its replica died) "
        "no longer blocks the next one",
    )


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


__all__ = ["BreakerStoreSettings", "build_breaker_store"]
