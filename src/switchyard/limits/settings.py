"""The ``limits`` section of config: where the counters live and what happens when they
cannot be reached. Plain models, so the config schema can name them without the stores."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.types.grants import Limits


class LimitsSettings(BaseModel):
    """``limits: {backend: memory|redis, url, on_backend_error: open|closed, global: {...}}``.

    ``memory``: each process counts alone (one replica). ``redis``: every replica charges the
    same counters atomically (one Lua script per admission), so N replicas admit one limit.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    backend: Literal["memory", "redis"] = "memory"
    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = Field(default="switchyard:limits:", min_length=1)
    timeout_seconds: float = Field(
        default=0.25, gt=0, description="Redis connect and reply timeout; past it, the policy"
    )
    on_backend_error: Literal["open", "closed"] = Field(
        default="open",
        description="Redis unreachable: admit (open, logged and counted) or answer 503 "
        "limits_unavailable (closed)",
    )
    global_: Limits | None = Field(
        default=None, alias="global", description="limits on every request together"
    )


__all__ = ["LimitsSettings"]
