"""What the Gateway can tell about itself: models, providers, deployments' health and breakers.

The doors ask these questions through the Gateway (``gateway.models()``,
``gateway.provider_status()``, ...) and only render the answers; none of them reaches into the
router, the breakers, the health board or the prober.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from switchyard.catalog.catalog import Catalog
from switchyard.catalog.model_info import ModelInfo
from switchyard.errors import InvalidRequest, ModelNotFound, SwitchyardError
from switchyard.providers.base import Capabilities, Provider
from switchyard.resilience.breaker import BreakerStore, BreakerView
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard, HealthView
from switchyard.routing.probes import HealthProber, ProbeResult, check_chat
from switchyard.routing.router import Router
from switchyard.types import Prices

ProbeMode = Literal["health", "chat"]
PROBE_MODES: tuple[ProbeMode, ...] = ("health", "chat")


@dataclass(frozen=True, slots=True)
class ModelListing:
    """A model a caller may ask for: an alias, or a deployment named ``provider/model``."""

    id: str
    owned_by: str
    alias: bool


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    """What the catalog knows of one deployment (``info`` None: a model it does not know);
    ``prices`` are the deployment's own when config sets them, else the catalog's."""

    key: str  # "provider/model"
    provider: str
    model: str
    info: ModelInfo | None
    prices: Prices | None


@dataclass(frozen=True, slots=True)
class AliasFacts:
    """An alias and its deployments, in configured order."""

    name: str
    deployments: list[DeploymentFacts]


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    key: str  # "provider/model"
    provider: str
    model: str
    health: HealthView
    breaker: BreakerView | None  # None when the shared breaker store could not be read


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    name: str
    type: str
    capabilities: Capabilities
    status: str  # healthy | degraded | down | unknown
    probe_enabled: bool
    probe_interval_seconds: float
    last_probe: ProbeResult | None
    deployments: list[DeploymentStatus]


@dataclass(frozen=True, slots=True)
class ProvidersReport:
    providers: list[ProviderStatus]
    breaker_store_error: SwitchyardError | None = None


class GatewayStatus:
    """Answers the operations questions from the Gateway's collaborators."""

    def __init__(
        self,
        router: Router,
        providers: Mapping[str, Provider[Any]],
        health: HealthBoard,
        breakers: BreakerStore,
        prober: HealthProber,
        default_timeout: float,
        catalog: Catalog | None = None,
    ) -> None:
        self._router = router
        self._catalog = catalog or Catalog.default()
        # every configured deployment's facts, by key: the answer's lookup is one dict get
        self._facts = {c.key: _facts(c) for c in router.candidates()}
        self._providers = providers
        self._health = health
        self._breakers = breakers
        self._prober = prober
        self._default_timeout = default_timeout

    def models(self) -> list[ModelListing]:
        """The configured aliases, then every configured deployment once."""
        listing = [ModelListing(name, "switchyard", True) for name in self._router.aliases]
        listing += [ModelListing(c.key, c.provider.name, False) for c in self._router.candidates()]
        return listing

    def provider_names(self) -> list[str]:
        return sorted(self._providers)

    def aliases(self) -> list[AliasFacts]:
        """Every alias with its deployments' catalog facts."""
        return [
            AliasFacts(name, [self._facts[c.key] for c in route.candidates])
            for name, route in self._router.aliases.items()
        ]

    def deployments(self) -> list[DeploymentFacts]:
        """Every configured deployment once, with its catalog facts."""
        return list(self._facts.values())

    def deployment_facts(self, provider: str, model: str) -> DeploymentFacts:
        """The facts of the deployment ``provider/model``: a configured one's (its prices
        included), else what the catalog knows of ``model``."""
        key = f"{provider}/{model}"
        facts = self._facts.get(key)
        if facts is not None:
            return facts
        info = self._catalog.get(model)
        return DeploymentFacts(key, provider, model, info, None if info is None else info.prices)

    async def providers(self) -> ProvidersReport:
        candidates = self._router.candidates()
        error: SwitchyardError | None = None
        try:
            views = await self._breakers.views([c.key for c in candidates])
            breakers: dict[str, BreakerView] = {view.key: view for view in views}
        except SwitchyardError as exc:  # the shared breaker store is down: show the rest
            breakers, error = {}, exc
        report = [
            self._provider(name, provider, candidates, breakers)
            for name, provider in self._providers.items()
        ]
        return ProvidersReport(report, error)

    def _provider(
        self,
        name: str,
        provider: Provider[Any],
        candidates: list[Candidate],
        breakers: dict[str, BreakerView],
    ) -> ProviderStatus:
        deployments = [
            DeploymentStatus(
                c.key, c.provider.name, c.model, self._health.view(c.key), breakers.get(c.key)
            )
            for c in candidates
            if c.provider is provider
        ]
        last = self._prober.results.get(name)
        return ProviderStatus(
            name=name,
            type=provider.settings.type,
            capabilities=provider.capabilities,
            status=overall_status([d.health for d in deployments], last),
            probe_enabled=provider.settings.probe_enabled(),
            probe_interval_seconds=provider.settings.probe.interval_seconds,
            last_probe=last,
            deployments=deployments,
        )

    async def breakers(self) -> list[DeploymentStatus]:
        """Every configured deployment's breaker (raises when the breaker store is down)."""
        candidates = self._router.candidates()
        views = await self._breakers.views([c.key for c in candidates])
        return [
            DeploymentStatus(c.key, c.provider.name, c.model, self._health.view(c.key), view)
            for c, view in zip(candidates, views, strict=True)
        ]

    async def reset_breaker(self, key: str) -> tuple[bool, BreakerView]:
        """Close ``provider/model``'s breaker and forget its history: (had state, its view)."""
        provider, sep, model = key.partition("/")
        if not sep or not model:
            raise InvalidRequest("name the deployment as provider/model", param="key")
        configured = {c.key for c in self._router.candidates()}
        if key not in configured and provider not in self._providers:
            raise ModelNotFound(f"unknown deployment {key!r}", param="key")
        had_state = await self._breakers.reset(key)
        [view] = await self._breakers.views([key])
        return had_state, view

    async def test_provider(
        self, name: str, mode: str, model: str | None = None
    ) -> tuple[str | None, ProbeResult]:
        """Probe provider ``name`` now: its health check, or (``chat``) one token from
        ``model`` (default: its first configured deployment). Returns (model, result)."""
        provider = self._providers.get(name)
        if provider is None:
            known = ", ".join(sorted(self._providers)) or "none"
            raise ModelNotFound(f"unknown provider {name!r} (configured: {known})")
        if mode not in PROBE_MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(PROBE_MODES)}", param="mode")
        if mode == "health":
            return None, await self._prober.probe(name)
        mine = [c for c in self._router.candidates() if c.provider is provider]
        model = model or (mine[0].model if mine else None)
        if model is None:
            raise InvalidRequest(
                f"provider {name!r} has no configured deployment: name one with ?model=",
                param="model",
            )
        candidate = next((c for c in mine if c.model == model), None)
        if candidate is not None:
            timeout = candidate.timeout.total
        elif provider.settings.timeout is not None:
            timeout = provider.settings.timeout.total
        else:
            timeout = self._default_timeout
        result = await check_chat(provider, model, timeout)
        self._prober.record(name, result, [candidate.key] if candidate else [])
        return model, result


def _facts(candidate: Candidate) -> DeploymentFacts:
    return DeploymentFacts(
        candidate.key, candidate.provider.name, candidate.model, candidate.info, candidate.prices
    )


def overall_status(views: list[HealthView], last: ProbeResult | None) -> str:
    """A provider's state: down when its last probe failed; else from its deployments' (all
    healthy: healthy, all down: down, a mix: degraded); else the probe's (a probe that could
    not check says nothing: unknown)."""
    if last is not None and last.ok is False:
        return "down"
    statuses = {view.status for view in views} - {"unknown"}
    if not statuses:
        return "healthy" if last is not None and last.ok else "unknown"
    if statuses == {"down"}:
        return "down"
    if statuses == {"healthy"}:
        return "healthy"
    return "degraded"


__all__ = [
    "PROBE_MODES",
    "AliasFacts",
    "DeploymentFacts",
    "DeploymentStatus",
    "GatewayStatus",
    "ModelListing",
    "ProviderStatus",
    "ProvidersReport",
    "overall_status",
]
