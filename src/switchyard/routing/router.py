"""From the model a caller named to the ordered deployments that may serve it.

alias or provider/model -> its deployments
  -> drop those that cannot serve this request (capabilities, context window)
  -> order by the alias's strategy
  -> put a preferred provider first, append the request's fallback aliases
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchyard.catalog.catalog import Catalog
from switchyard.config.schema import Deployment, HedgeSettings, ModelAlias
from switchyard.errors import ContextLengthExceeded, ModelNotFound
from switchyard.providers.base import Provider, Timeouts
from switchyard.providers.capabilities import fit_request
from switchyard.resilience.deployment_records import DEFAULT_MAX_DIRECT, DeploymentRecords
from switchyard.resilience.settings import BreakerSettings
from switchyard.routing.candidate import Candidate
from switchyard.routing.eligibility import ChatNeeds, eligible, eligible_for_embeddings
from switchyard.routing.health import HealthBoard
from switchyard.routing.strategies import (
    DEFAULT_OUTPUT_TOKENS,
    STRATEGIES,
    RoutingContext,
    Strategy,
    fallback_order,
)
from switchyard.routing.tokens import TokenCounter
from switchyard.types import ChatRequest


@dataclass(frozen=True, slots=True)
class AliasRoute:
    alias: str
    strategy: Strategy
    candidates: tuple[Candidate, ...]
    cost_weight: float = 0.5
    context_window_fallbacks: tuple[str, ...] = ()
    hedge: HedgeSettings | None = None
    mid_stream_failover: bool = False


def deployment_key(deployment: Deployment) -> str:
    """``provider/model``: a deployment's identity for breakers and health."""
    return f"{deployment.provider}/{deployment.model}"


def configured_keys(aliases: Sequence[ModelAlias]) -> frozenset[str]:
    """The keys of every configured deployment (their records are never evicted)."""
    return frozenset(deployment_key(d) for alias in aliases for d in alias.deployments)


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


class Router:
    """Built once from config; per request it filters and orders a handful of candidates."""

    def __init__(
        self,
        aliases: Sequence[ModelAlias],
        providers: Mapping[str, Provider[Any]],
        *,
        catalog: Catalog,
        default_timeout: Timeouts,
        default_breaker: BreakerSettings,
        health: HealthBoard | None = None,
        rng: random.Random | None = None,
        max_direct: int = DEFAULT_MAX_DIRECT,
    ) -> None:
        self._providers = providers
        self._catalog = catalog
        self._default_timeout = default_timeout
        self._default_breaker = default_breaker
        self.health = health or HealthBoard()
        self.tokens = TokenCounter()
        self._rng = rng or random.Random()
        self._routes: dict[str, AliasRoute] = {}
        for alias in aliases:
            breaker = alias.circuit_breaker or default_breaker
            self._routes[alias.name] = AliasRoute(
                alias.name,
                STRATEGIES[alias.strategy],
                tuple(self._candidate(d, breaker) for d in alias.deployments),
                alias.cost_weight,
                tuple(alias.context_window_fallbacks),
                alias.hedge,
                alias.mid_stream_failover,
            )
        # provider/model names callers send: an LRU, as their health and breakers are
        self._direct: DeploymentRecords[AliasRoute] = DeploymentRecords(limit=max_direct)

    @property
    def aliases(self) -> Mapping[str, AliasRoute]:
        return self._routes

    def candidates(self) -> list[Candidate]:
        """Every configured deployment once (for health and breaker listings)."""
        seen: dict[str, Candidate] = {}
        for route in self._routes.values():
            for candidate in route.candidates:
                seen.setdefault(candidate.key, candidate)
        return list(seen.values())

    def resolve(self, request: ChatRequest, prefer: str | None = None) -> list[Candidate]:
        """The ordered candidates for a chat request, then those of its fallback aliases."""
        route = self.route(request.model)
        needs = ChatNeeds.of(request, self.tokens)
        try:
            fit = eligible(route.alias, route.candidates, needs, self.tokens)
        except ContextLengthExceeded:
            if not route.context_window_fallbacks:
                raise
            fit = self.larger_context(route, request, needs)
        ordered = self._order(route, fit, request, needs)
        for name in request.fallbacks or ():
            extra = self.route(name)
            seen = {c.key for c in ordered}
            try:
                more = eligible(extra.alias, extra.candidates, needs, self.tokens)
            except (ContextLengthExceeded, ValueError):
                continue
            ordered.extend(c for c in self._order(extra, more, request, needs) if c.key not in seen)
        if prefer:
            ordered.sort(key=lambda c: c.provider.name != prefer)
        return ordered

    def larger_context(
        self,
        route: AliasRoute,
        request: ChatRequest,
        needs: ChatNeeds | None = None,
        *,
        beyond: int = 0,
    ) -> list[Candidate]:
        """Candidates of the alias's ``context_window_fallbacks`` whose window exceeds
        ``beyond`` and fits the request (a provider's context-length error sends us here)."""
        needs = needs or ChatNeeds.of(request, self.tokens)
        pool = [
            c
            for name in route.context_window_fallbacks
            for c in self.route(name).candidates
            if c.info is None or c.info.context_window > beyond
        ]
        return eligible(f"{route.alias} (context_window_fallbacks)", pool, needs, self.tokens)

    def resolve_embedding(self, model: str) -> list[Candidate]:
        route = self.route(model)
        return eligible_for_embeddings(route.alias, route.candidates)

    def route(self, model: str) -> AliasRoute:
        return self._routes.get(model) or self._direct_route(model)

    def _order(
        self, route: AliasRoute, fit: list[Candidate], request: ChatRequest, needs: ChatNeeds
    ) -> list[Candidate]:
        if len(fit) == 1:
            return fit
        ctx = RoutingContext(
            rng=self._rng,
            health=self.health,
            input_tokens=needs.upper_bound // 4,
            output_tokens=request.max_tokens or DEFAULT_OUTPUT_TOKENS,
            streaming=request.stream,
            cost_weight=route.cost_weight,
        )
        return route.strategy(fit, ctx)

    def _direct_route(self, model: str) -> AliasRoute:
        """``provider/model``: one deployment built on the fly (and remembered, at most
        ``max_direct`` such names)."""
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
        candidate = self._candidate(deployment, self._default_breaker)
        return self._direct.add(model, AliasRoute(model, fallback_order, (candidate,)))

    def _candidate(self, deployment: Deployment, breaker: BreakerSettings) -> Candidate:
        provider = self._providers[deployment.provider]
        info = self._catalog.get(deployment.model)
        prices = deployment.prices or (info.prices if info is not None else None)
        timeout = deployment.timeout or provider.settings.timeout or self._default_timeout
        return Candidate(
            key=deployment_key(deployment),
            provider=provider,
            model=deployment.model,
            weight=deployment.weight,
            timeout=timeout,
            prices=prices,
            breaker=breaker,
            info=info,
        )


__all__ = [
    "AliasRoute",
    "Router",
    "configured_keys",
    "deployment_key",
    "for_candidate",
]
