"""Who answered and what it cost: the one home of ``served_by`` and of cost.

Pure functions over what the attempt loop reports (:class:`~switchyard.routing.attempts.Outcome`)
and over a stream's legs. Cost comes from the deployment's prices (the config's, else the
catalog's); a deployment without a price has cost ``None``, never a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from switchyard.records.record import AttemptRecord, RequestRecord
from switchyard.routing.attempts import Outcome
from switchyard.routing.candidate import Candidate
from switchyard.routing.hedging import Abandoned
from switchyard.types import (
    AbandonedAttempt,
    ChatResponse,
    Cost,
    EmbeddingResponse,
    Prices,
    ServedBy,
    Usage,
)

T = TypeVar("T")


def cost_of(prices: Prices | None, usage: Usage) -> Cost | None:
    return prices.cost(usage) if prices is not None else None


def add_costs(first: Cost | None, second: Cost | None) -> Cost | None:
    """A sum of costs is known only when every part is."""
    return None if first is None or second is None else first + second


def served_by(outcome: Outcome[T], spent: Callable[[T], Usage | None]) -> ServedBy:
    """Who answered, after how many attempts, and the hedges that lost: ``spent`` says what an
    answer used (None when an answer, such as an opened stream, has no usage yet)."""
    candidate = outcome.candidate
    return ServedBy(
        provider=candidate.provider.name,
        model=candidate.model,
        attempts=outcome.attempts,
        upstream_ms=outcome.upstream_seconds * 1000.0,
        hedged=outcome.hedged,
        abandoned=[_abandoned(a, spent) for a in outcome.abandoned],
    )


def _abandoned(attempt: Abandoned[T], spent: Callable[[T], Usage | None]) -> AbandonedAttempt:
    """A hedge that lost; when it had answered, its usage and cost are known."""
    candidate, answer = attempt.candidate, attempt.value
    if answer is None:
        return AbandonedAttempt(provider=candidate.provider.name, model=candidate.model)
    usage = spent(answer)
    return AbandonedAttempt(
        provider=candidate.provider.name,
        model=candidate.model,
        answered=True,
        usage=usage,
        cost=None if usage is None else cost_of(candidate.prices, usage),
    )


@dataclass(slots=True)
class StreamAccount:
    """Usage and cost of a stream, summed over its legs (more than one after a mid-stream
    failover). A leg's usage is what its provider reported, or else the gateway's count."""

    usage: Usage | None = None
    cost: Cost | None = None
    priced: bool = True
    estimated: bool = False

    def add_leg(self, candidate: Candidate, usage: Usage, *, estimated: bool = False) -> None:
        leg_cost = cost_of(candidate.prices, usage)
        self.priced = self.priced and candidate.prices is not None
        if self.usage is None:
            self.usage, self.cost = usage, leg_cost
        else:
            self.usage = self.usage + usage
            self.cost = add_costs(self.cost, leg_cost)
        self.estimated = self.estimated or estimated

    def with_leg(self, candidate: Candidate, usage: Usage) -> tuple[Usage, Cost | None]:
        """The totals if the current leg ends having used ``usage`` (what its usage chunk
        should say), without adding it yet."""
        leg_cost = cost_of(candidate.prices, usage)
        if self.usage is None:
            return usage, leg_cost
        return self.usage + usage, add_costs(self.cost, leg_cost)


ResponseT = TypeVar("ResponseT", ChatResponse, EmbeddingResponse)


def settle(outcome: Outcome[ResponseT], record: RequestRecord) -> ResponseT:
    """Say who answered, after how many attempts, and what it cost; note it on the record."""
    response, candidate = outcome.value, outcome.candidate
    response.provider = candidate.provider.name
    if response.cost is None:
        response.cost = cost_of(candidate.prices, response.usage)
    response.served_by = served = served_by(outcome, lambda answer: answer.usage)
    served.rate_limits = record.rate_limits
    record.provider, record.model = candidate.provider.name, candidate.model
    record.usage, record.cost = response.usage, response.cost
    record.priced = candidate.prices is not None or response.cost is not None
    record.upstream_ms = served.upstream_ms
    record.hedged = served.hedged
    attempts = record.attempts
    if outcome.errors:
        attempts.extend(AttemptRecord.failed(e) for e in outcome.errors)
    if served.abandoned:
        attempts.extend(
            AttemptRecord(f"{a.provider}/{a.model}", "abandoned", usage=a.usage, cost=a.cost)
            for a in served.abandoned
        )
    attempts.append(AttemptRecord(candidate.key, "ok"))
    return response


__all__ = ["StreamAccount", "add_costs", "cost_of", "served_by", "settle"]
