"""The resilience sections of config: ``circuit_breaker`` (under ``router`` or on an alias) and
``router.breaker_store``. Plain models, so the config schema can name them without importing the
breakers themselves."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class BreakerSettings(BaseModel):
    """``circuit_breaker`` in config: under ``router`` (the default) or on an alias."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_threshold: int = Field(default=5, ge=1)
    recovery_timeout: float = Field(default=30.0, gt=0)
    error_rate_threshold: float | None = Field(default=None, gt=0, le=1)
    window_seconds: float = Field(default=60.0, gt=0)
    min_requests: int = Field(default=20, ge=1)
    count_rate_limits: bool = False


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


__all__ = ["BreakerSettings", "BreakerStoreSettings"]
