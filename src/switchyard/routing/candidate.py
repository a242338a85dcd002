"""One deployment a request may be sent to: what the router hands the attempt loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard.catalog.model_info import ModelInfo
from switchyard.providers.base import Provider, Timeouts
from switchyard.resilience.settings import BreakerSettings
from switchyard.types import Prices


@dataclass(frozen=True, slots=True)
class Candidate:
    """One deployment a request may be sent to, with everything the attempt loop needs."""

    key: str  # "provider/model": identity for breakers and health
    provider: Provider[Any]
    model: str  # the upstream model name
    weight: float
    timeout: Timeouts
    prices: Prices | None
    breaker: BreakerSettings
    info: ModelInfo | None = None


__all__ = ["Candidate"]
