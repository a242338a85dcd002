"""From the model a caller named to the ordered deployments that may serve it."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchyard.catalog.catalog import Catalog
from switchyard.config.schema import Deployment, ModelAlias
from switchyard.errors import ModelNotFound
from switchyard.providers.base import Provider, Timeouts
from switchyard.providers.capabilities import fit_request
from switchyard.resilience.breaker import BreakerSettings
from switchyard.types import ChatRequest, Prices


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


Strategy = Callable[[Sequence[Candidate], random.Random], list[Candidate]]


def fallback_order(candidates: Sequence[Candidate], rng: random.Random) -> list[Candidate]:
    """The order the config lists them in."""
    return list(candidates)


def weighted_order(candidates: Sequence[Candidate], rng: random.Random) -> list[Candidate]:
    """A random order in which each deployment comes first with probability weight / total;
    the rest follow in the same weighted way (Efraimidis-Spirakis sampling without
    replacement), so failover still reaches every deployment."""
    keyed = [(rng.random() ** (1.0 / c.weight), i) for i, c in enumerate(candidates)]
    keyed.sort(reverse=True)
    return [candidates[i] for _, i in keyed]


def for_candidate(request: ChatRequest, candidate: Candidate) -> ChatRequest:
    """The request as ``candidate`` receives it: its upstream model name, and only the features
    its provider can serve (see :func:`~switchyard.providers.capabilities.fit_request`)."""
    provider = candidate.provider
    fitted = fit_request(
        request,
        provider.capabilities,
        provider=provider.name,
        drop=provider.settings.drop_unsupported,
    )
    return fitted.model_copy(update={"model": candidate.model})


STRATEGIES: dict[str, Strategy] = {"fallback": fallback_order, "weighted": weighted_order}


@dataclass(frozen=True, slots=True)
class AliasRoute:
    alias: str
    strategy: Strategy
    candidates: tuple[Candidate, ...]


class Router:
    """Resolves aliases (``smart``) and direct names (``openai/gpt-4.1``) to candidates,
    ordered by the alias's strategy. Built once from config; ordering is the only per-request
    work."""

    def __init__(
        self,
        aliases: Sequence[ModelAlias],
        providers: Mapping[str, Provider[Any]],
        *,
        catalog: Catalog,
        default_timeout: Timeouts,
        default_breaker: BreakerSettings,
        rng: random.Random | None = None,
    ) -> None:
        self._providers = providers
        self._catalog = catalog
        self._default_timeout = default_timeout
        self._default_breaker = default_breaker
        self._rng = rng or random.Random()
        self._routes: dict[str, AliasRoute] = {}
        for alias in aliases:
            breaker = alias.circuit_breaker or default_breaker
            candidates = tuple(self._candidate(d, breaker) for d in alias.deployments)
            self._routes[alias.name] = AliasRoute(
                alias.name, STRATEGIES[alias.strategy], candidates
            )
        self._direct: dict[str, AliasRoute] = {}

    @property
    def aliases(self) -> Mapping[str, AliasRoute]:
        return self._routes

    def resolve(self, model: str, fallbacks: Sequence[str] | None = None) -> list[Candidate]:
        """The ordered candidates for ``model``, then those of each ``fallbacks`` alias."""
        ordered = self._ordered(model)
        for extra in fallbacks or ():
            seen = {c.key for c in ordered}
            ordered.extend(c for c in self._ordered(extra) if c.key not in seen)
        return ordered

    def _ordered(self, model: str) -> list[Candidate]:
        route = self._routes.get(model) or self._direct_route(model)
        if len(route.candidates) == 1:
            return [route.candidates[0]]
        return route.strategy(route.candidates, self._rng)

    def _direct_route(self, model: str) -> AliasRoute:
        """``provider/model``: one deployment built on the fly (and remembered)."""
        route = self._direct.get(model)
        if route is not None:
            return route
        provider_name, sep, upstream_model = model.partition("/")
        if not sep or not upstream_model or provider_name not in self._providers:
            raise ModelNotFound(
                f"model {model!r} is neither a configured alias nor provider/model "
                f"(aliases: {', '.join(sorted(self._routes)) or 'none'}; "
                f"providers: {', '.join(sorted(self._providers)) or 'none'})",
                param="model",
            )
        deployment = Deployment(provider=provider_name, model=upstream_model)
        route = AliasRoute(
            model, fallback_order, (self._candidate(deployment, self._default_breaker),)
        )
        if len(self._direct) < 10_000:  # bounded: names come from callers
            self._direct[model] = route
        return route

    def _candidate(self, deployment: Deployment, breaker: BreakerSettings) -> Candidate:
        provider = self._providers[deployment.provider]
        prices = deployment.prices
        if prices is None:
            info = self._catalog.get(deployment.model)
            prices = info.prices if info is not None else None
        timeout = deployment.timeout or provider.settings.timeout or self._default_timeout
        return Candidate(
            key=f"{deployment.provider}/{deployment.model}",
            provider=provider,
            model=deployment.model,
            weight=deployment.weight,
            timeout=timeout,
            prices=prices,
            breaker=breaker,
        )


__all__ = ["STRATEGIES", "AliasRoute", "Candidate", "Router", "fallback_order", "weighted_order"]
