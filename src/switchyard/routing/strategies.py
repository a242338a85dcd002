"""How an alias orders its deployments: one small function per strategy, chosen by name.

Every strategy returns all the candidates it was given (failover still reaches each one), only
in a different order, and is deterministic for a given ``random.Random`` seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard

DEFAULT_OUTPUT_TOKENS = 256
EXPLORE = 0.05


@dataclass(slots=True)
class RoutingContext:
    """What a strategy may look at besides the candidates."""

    rng: random.Random
    health: HealthBoard
    input_tokens: int = 0
    output_tokens: int = DEFAULT_OUTPUT_TOKENS
    streaming: bool = False
    cost_weight: float = 0.5


Strategy = Callable[[Sequence["Candidate"], RoutingContext], list["Candidate"]]


def fallback_order(candidates: Sequence[Candidate], ctx: RoutingContext) -> list[Candidate]:
    """The order the config lists them in."""
    return list(candidates)


def weighted_order(candidates: Sequence[Candidate], ctx: RoutingContext) -> list[Candidate]:
    """A random order in which each deployment comes first with probability weight / total;
    the rest follow in the same weighted way (Efraimidis-Spirakis sampling without
    replacement)."""
    keyed = [(ctx.rng.random() ** (1.0 / c.weight), i) for i, c in enumerate(candidates)]
    keyed.sort(reverse=True)
    return [candidates[i] for _, i in keyed]


def estimated_cost(candidate: Candidate, ctx: RoutingContext) -> float:
    """US dollars for this request at the candidate's prices; infinity when unpriced."""
    if candidate.prices is None:
        return math.inf
    prices = candidate.prices
    return (ctx.input_tokens * prices.input + ctx.output_tokens * prices.output) / 1e6


def cheapest_order(candidates: Sequence[Candidate], ctx: RoutingContext) -> list[Candidate]:
    """Lowest estimated cost first (catalog or deployment prices, this request's estimated
    input tokens and its ``max_tokens`` or 256 output tokens); unpriced deployments last, ties
    in config order."""
    return sorted(candidates, key=lambda c: estimated_cost(c, ctx))


def best_quality_order(candidates: Sequence[Candidate], ctx: RoutingContext) -> list[Candidate]:
    """Highest catalog quality score first; models the catalog does not score last."""
    return sorted(candidates, key=lambda c: -_quality(c))


def fastest_order(candidates: Sequence[Candidate], ctx: RoutingContext) -> list[Candidate]:
    """Lowest observed latency first: the EWMA of time to first token for streams, of total
    latency otherwise. A deployment never measured ranks first (so it gets measured), and with
    probability 5 % a random other deployment is tried first, so one that recovered from a slow
    spell earns traffic back."""

    def latency(c: Candidate) -> float:
        health = ctx.health.get(c.key)
        value = health.ewma_ttft if ctx.streaming else health.ewma_latency
        if value is None:
            value = health.ewma_latency if ctx.streaming else None
        return -1.0 if value is None else value

    ordered = sorted(candidates, key=latency)
    if len(ordered) > 1 and ctx.rng.random() < EXPLORE:
        pick = ctx.rng.randrange(1, len(ordered))
        ordered.insert(0, ordered.pop(pick))
    return ordered


def least_busy_order(candidates: Sequence[Candidate], ctx: RoutingContext) -> list[Candidate]:
    """Fewest requests in flight first; ties in config order."""
    return sorted(candidates, key=lambda c: ctx.health.get(c.key).in_flight)


def auto_order(candidates: Sequence[Candidate], ctx: RoutingContext) -> list[Candidate]:
    """Trade cost against quality: score = w * cost / max cost + (1 - w) * (1 - quality / 100),
    lowest first, with ``w`` the alias's ``cost_weight`` (0: quality only, 1: cost only).
    Capability and context filtering happened before any strategy runs."""
    costs = [estimated_cost(c, ctx) for c in candidates]
    finite = [c for c in costs if math.isfinite(c)]
    top = max(finite, default=0.0) or 1.0
    w = ctx.cost_weight

    def score(i: int) -> float:
        cost = costs[i] / top if math.isfinite(costs[i]) else 1.0
        quality = max(_quality(candidates[i]), 0.0) / 100.0
        return w * cost + (1 - w) * (1 - quality)

    return [candidates[i] for i in sorted(range(len(candidates)), key=score)]


def _quality(candidate: Candidate) -> float:
    info = candidate.info
    return info.quality if info is not None and info.quality is not None else -1.0


STRATEGIES: dict[str, Strategy] = {
    "fallback": fallback_order,
    "weighted": weighted_order,
    "cheapest": cheapest_order,
    "fastest": fastest_order,
    "best_quality": best_quality_order,
    "least_busy": least_busy_order,
    "auto": auto_order,
}

__all__ = ["STRATEGIES", "RoutingContext", "Strategy", "estimated_cost"]
