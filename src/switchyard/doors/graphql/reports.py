"""The queries' answers (models, health, providers, usage) from what the Gateway reports:
pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from strawberry.scalars import JSON

from switchyard.catalog.catalog import Catalog
from switchyard.catalog.model_info import ModelInfo
from switchyard.config.schema import ModelAlias
from switchyard.doors.graphql.objects import (
    Breaker,
    DependencyStatus,
    DeploymentState,
    Health,
    ModelCapabilities,
    ModelEntry,
    Prices,
    ProviderState,
    UsageGroup,
    UsageReport,
    UsageStats,
)
from switchyard.status import ModelListing, ProvidersReport
from switchyard.types import Prices as CanonicalPrices
from switchyard.types.usage import usd_text
from switchyard.usage.report import UsageStats as CanonicalStats
from switchyard.usage.report import UsageSummary


def model_entries(
    listing: Iterable[ModelListing], aliases: Sequence[ModelAlias], catalog: Catalog
) -> list[ModelEntry]:
    """Each listed model with the catalog's facts: a deployment's own, an alias's from its
    first deployment (prices: the deployment's override, else the catalog's)."""
    by_name = {alias.name: alias for alias in aliases}
    entries = []
    for model in listing:
        if model.alias and model.id in by_name:
            deployments = [f"{d.provider}/{d.model}" for d in by_name[model.id].deployments]
            first = by_name[model.id].deployments[0]
            upstream, override = first.model, first.prices
        else:
            deployments = [model.id]
            upstream = model.id.partition("/")[2]
            override = _override(aliases, model.id)
        entries.append(_entry(model, deployments, catalog.get(upstream), override))
    return entries


def _override(aliases: Sequence[ModelAlias], key: str) -> CanonicalPrices | None:
    for alias in aliases:
        for deployment in alias.deployments:
            if deployment.prices is not None and f"{deployment.provider}/{deployment.model}" == key:
                return deployment.prices
    return None


def _entry(
    model: ModelListing,
    deployments: list[str],
    info: ModelInfo | None,
    override: CanonicalPrices | None,
) -> ModelEntry:
    prices = override or (info.prices if info is not None else None)
    return ModelEntry(
        id=model.id,
        owned_by=model.owned_by,
        alias=model.alias,
        deployments=deployments,
        known=info is not None,
        context_window=info.context_window if info else None,
        max_output_tokens=info.max_output_tokens if info else None,
        prices=None
        if prices is None
        else Prices(input=prices.input, output=prices.output, cached_input=prices.cached_input),
        capabilities=None
        if info is None
        else ModelCapabilities(
            streaming=info.capabilities.streaming,
            tools=info.capabilities.tools,
            vision=info.capabilities.vision,
            json_mode=info.capabilities.json_mode,
            embeddings=info.capabilities.embeddings,
        ),
        strengths=list(info.strengths) if info else [],
        use_cases=list(info.use_cases) if info else [],
        quality=info.quality if info else None,
    )


def health(report: Mapping[str, Any]) -> Health:
    """``GET /api/v1/monitoring/health``'s answer (see :mod:`switchyard.server.health`)."""
    info: Mapping[str, Any] = report["info"]
    dependencies = [
        DependencyStatus(
            name=name, status=section["status"], latency_ms=section["details"]["latency"]
        )
        for name, section in info.items()
        if name != "providers"
    ]
    details: Mapping[str, Any] = info.get("providers", {}).get("details", {})
    providers = [
        DependencyStatus(name=name, status=d["status"], latency_ms=d["latency"])
        for name, d in details.items()
    ]
    return Health(status=report["status"], dependencies=dependencies, providers=providers)


def provider_states(report: ProvidersReport) -> list[ProviderState]:
    return [
        ProviderState(
            name=p.name,
            type=p.type,
            status=p.status,
            deployments=[
                DeploymentState(
                    key=d.key,
                    model=d.model,
                    status=d.health.status,
                    in_flight=d.health.in_flight,
                    error_rate=d.health.error_rate,
                    latency_p50_ms=d.health.latency_p50_ms,
                    breaker=None
                    if d.breaker is None
                    else Breaker(
                        state=d.breaker.state,
                        consecutive_failures=d.breaker.consecutive_failures,
                        retry_in_seconds=d.breaker.retry_in_seconds,
                    ),
                )
                for d in p.deployments
            ],
        )
        for p in report.providers
    ]


def usage_report(summary: UsageSummary) -> UsageReport:
    """The usage summary as ``GET /api/v1/usage/summary`` words it, typed."""
    query = summary.query
    return UsageReport(
        group_by=list(query.group_by),
        since=None if query.since is None else _iso(query.since),
        until=None if query.until is None else _iso(query.until),
        tenant=query.tenant,
        groups=[UsageGroup(keys=JSON(g.keys), stats=_stats(g.stats)) for g in summary.groups],
        totals=_stats(summary.totals),
        truncated=summary.truncated,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _stats(stats: CanonicalStats) -> UsageStats:
    return UsageStats(
        requests=stats.requests,
        input_tokens=stats.input_tokens,
        output_tokens=stats.output_tokens,
        cached_tokens=stats.cached_tokens,
        reasoning_tokens=stats.reasoning_tokens,
        cost_usd=None if stats.cost_usd is None else usd_text(stats.cost_usd),
        unpriced_requests=stats.unpriced,
        errors=stats.errors,
        cache_hits=stats.cache_hits,
        latency_p50_ms=stats.latency_p50_ms,
        latency_p95_ms=stats.latency_p95_ms,
    )


__all__ = ["health", "model_entries", "provider_states", "usage_report"]
