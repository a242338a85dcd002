"""What attempts come to: one attempt's :class:`Tried`, and a request's :class:`Tally` across
passes. Shared by the attempt loop and the hedged pass, which both fill them in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from switchyard.errors import SwitchyardError
from switchyard.routing.candidate import Candidate

T = TypeVar("T")


@dataclass(slots=True)
class Tried(Generic[T]):
    """What one attempt came to: ``value`` when it succeeded, else a retryable ``error``."""

    candidate: Candidate
    seconds: float
    value: T | None = None
    error: SwitchyardError | None = None


@dataclass(slots=True)
class Tally:
    """What the attempts of one request add up to, across passes."""

    attempts: int = 0
    upstream: float = 0.0
    errors: list[SwitchyardError] = field(default_factory=list)


__all__ = ["Tally", "Tried"]
