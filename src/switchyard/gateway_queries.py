"""What the front doors may ask the Gateway besides a request: the models a caller may use,
who a key names, providers' and breakers' state, the usage summary, the health of the storage
and the gauges read at scrape time.

A mixin of :class:`~switchyard.gateway.Gateway` over the parts it built; doors call these
methods, never the router, breakers or health board behind them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from switchyard.admission import authorize
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import (
    AuthenticationError,
    NotConfigured,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    SwitchyardError,
)
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.resilience.breaker import BreakerView
from switchyard.routing.probes import ProbeResult
from switchyard.routing.router import Router
from switchyard.status import (
    AliasFacts,
    DeploymentFacts,
    DeploymentStatus,
    GatewayStatus,
    ModelListing,
    ProvidersReport,
)
from switchyard.types import ChatRequest, Principal

if TYPE_CHECKING:
    from datetime import date, datetime

    from switchyard.admission import Admission
    from switchyard.records.metrics import Metrics
    from switchyard.records.recent_errors import FailedRequest, RecentErrors
    from switchyard.tenancy.keyring import KeyRing
    from switchyard.usage.ledger import UsageLedger
    from switchyard.usage.report import UsageSummary


class GatewayQueries:
    """The doors' questions, answered from the parts the Gateway set up."""

    config: SwitchyardConfig
    router: Router
    _status: GatewayStatus
    keyring: KeyRing | None
    ledger: UsageLedger | None
    admission: Admission | None
    metrics: Metrics | None
    recent_failures: RecentErrors

    def models(self, principal: Principal | None = None) -> list[ModelListing]:
        """The aliases, then every configured ``provider/model`` deployment: those
        ``principal`` may use (all of them for the admin, or without a principal)."""
        listing = self._status.models()
        if principal is None or principal.grant is None:
            return listing
        return [m for m in listing if principal.may_use(m.id)]

    def default_model(self, principal: Principal | None = None) -> str | None:
        """The model a request that names none gets: the caller's tenant's ``default_model``,
        else ``server.default_model``, else the first alias (None: there is no alias)."""
        if principal is not None and principal.grant is not None:
            if principal.grant.default_model is not None:
                return principal.grant.default_model
        fallback = self.config.server.default_model
        return fallback or next((a.name for a in self.config.models), None)

    def model_catalog(
        self, principal: Principal | None = None
    ) -> tuple[list[AliasFacts], list[DeploymentFacts]]:
        """The aliases (with their deployments) and the configured deployments ``principal``
        may use, each with its catalog facts (context window, prices, capabilities ...)."""
        aliases, deployments = self._status.aliases(), self._status.deployments()
        if principal is None or principal.grant is None:
            return aliases, deployments
        return (
            [a for a in aliases if principal.may_use(a.name)],
            [d for d in deployments if principal.may_use(d.key)],
        )

    def deployment_facts(self, provider: str, model: str) -> DeploymentFacts:
        """The catalog facts of the deployment that answered (``served_by``)."""
        return self._status.deployment_facts(provider, model)

    async def authenticate_key(self, token: bytes, request_id: str) -> Principal:
        """The caller a virtual key (``sk-sy-...``) names, or 401 (unknown, revoked, expired;
        or no ``storage`` configured, so no keys at all); 503 when the key database is needed
        and does not answer."""
        if self.keyring is None:
            raise AuthenticationError(
                "invalid API key: this gateway has no virtual keys (no storage configured)"
            )
        return await self.keyring.authenticate(token, request_id)

    def count_tokens(self, request: ChatRequest, principal: Principal | None = None) -> int:
        """The input tokens of ``request`` as the router counts them to fit context windows
        (see :mod:`switchyard.routing.tokens`), for the model of the alias's first deployment:
        exact text tokens where a tokenizer is available offline, else the documented
        estimate. No model is called and no usage row is written. 403 when the caller may not
        use the model, 404 when there is no such model."""
        authorize(principal or Principal.anonymous_admin(), request.model)
        route = self.router.route(request.model)
        model = route.candidates[0].model if route.candidates else request.model
        return self.router.tokens.count(request, model)

    def speaks_responses(self, provider: str) -> bool:
        """Whether the provider ``provider`` (a config name) talks to its upstream in OpenAI's
        Responses API (``wire_api: responses``): then the Responses door's own fields (hosted
        tools, encrypted reasoning) reached it, and its reasoning comes back as it was."""
        settings = self.config.providers.get(provider)
        return isinstance(settings, OpenAISettings) and settings.wire_api == "responses"

    def provider_names(self) -> list[str]:
        return self._status.provider_names()

    async def provider_status(self) -> ProvidersReport:
        """Each provider with its deployments' health and breakers."""
        return await self._status.providers()

    async def breaker_status(self) -> list[DeploymentStatus]:
        """Every configured deployment's circuit breaker."""
        return await self._status.breakers()

    async def reset_breaker(self, key: str) -> tuple[bool, BreakerView]:
        """Close a deployment's breaker now and forget its history (an admin action)."""
        return await self._status.reset_breaker(key)

    async def limits_status(self) -> dict[str, Any] | None:
        """The limits' backend as readiness reports it (None: no limits configured)."""
        return None if self.admission is None else await self.admission.limiter.check()

    async def test_provider(
        self, name: str, mode: str = "health", model: str | None = None
    ) -> tuple[str | None, ProbeResult]:
        """Probe a provider now (``health`` check, or one ``chat`` token from ``model``)."""
        return await self._status.test_provider(name, mode, model)

    async def usage_summary(
        self,
        principal: Principal | None = None,
        *,
        group_by: str | Sequence[str] | None = None,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        tenant: str | None = None,
    ) -> UsageSummary:
        """Requests, tokens, cost, errors, cache hits and latency per group of the usage rows
        created in ``[since, until)``, plus the totals (see :mod:`switchyard.usage.summary`).

        The admin (the master key, the library's default caller) sees every tenant and may
        narrow to one with ``tenant``; a tenant's key sees its own tenant only, and naming
        another is 404, as if it did not exist. Rows reach the database within
        ``storage.flush_seconds`` of their request."""
        if self.ledger is None:
            raise NotConfigured("the usage summary needs a storage section in the config")
        from switchyard.usage.summary import summarize

        caller = principal or Principal.anonymous_admin()
        if not caller.admin:
            if caller.tenant is None:
                raise PermissionDenied("this key belongs to no tenant: it has no usage to read")
            if tenant is not None and tenant != caller.tenant:
                raise NotFound(f"no tenant named {tenant[:64]!r}", param="tenant")
            tenant = caller.tenant
        return await summarize(self.ledger.engine, group_by, since, until, tenant)

    def recent_errors(self, principal: Principal | None = None) -> list[FailedRequest]:
        """The last failed requests this process served, newest first (a bounded ring): every
        tenant's for the admin, only its own tenant's for a tenant's key."""
        caller = principal or Principal.anonymous_admin()
        if caller.admin:
            return self.recent_failures.latest()
        if caller.tenant is None:
            return []
        return self.recent_failures.latest(caller.tenant, every=False)

    async def storage_health(self, within: float = 1.0) -> float:
        """Milliseconds one trivial query on the storage database took; raises
        :class:`~switchyard.errors.StorageUnavailable` when it fails or takes over ``within``
        seconds, :class:`~switchyard.errors.NotConfigured` when there is no storage."""
        if self.ledger is None:
            raise NotConfigured("no storage section in the config")
        from switchyard.storage.engine import ping

        started = time.perf_counter()
        try:
            await asyncio.wait_for(ping(self.ledger.engine), within)
        except Exception as exc:  # the driver's errors, or the timeout
            raise StorageUnavailable(
                f"the database did not answer ({type(exc).__name__})"
            ) from None
        return (time.perf_counter() - started) * 1000.0

    async def observe_metrics(self) -> None:
        """Set the gauges read at scrape time: breakers and the usage queue (``metrics``)."""
        metrics = self.metrics
        if metrics is None:
            return
        if self.ledger is not None:
            metrics.set_queue("usage", self.ledger.queued, self.ledger.dropped)
        try:
            deployments = await self._status.breakers()
        except SwitchyardError:  # the shared breaker store is down: no breaker gauges now
            metrics.set_breakers(None)
            return
        metrics.set_breakers(
            (d.provider, d.model, d.breaker.state) for d in deployments if d.breaker is not None
        )
