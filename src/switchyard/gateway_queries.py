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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, cast

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
from switchyard.types import Budget, ChatRequest, Limits, Principal

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

    from switchyard.admission import Admission, LimitOwner, LimitReading
    from switchyard.conversations import Conversation, ConversationGateway, Conversations
    from switchyard.records.metrics import Metrics
    from switchyard.records.recent_errors import FailedRequest, RecentErrors
    from switchyard.tenancy.accounts import Accounts
    from switchyard.tenancy.keyring import KeyRing
    from switchyard.usage.ledger import UsageLedger
    from switchyard.usage.report import UsageSummary


MAX_READ_OWNERS = 500  # tenants, and as many keys, with limits read for one limits page


class LimitsReport(NamedTuple):
    """The limits page's answer: the readings (None: the limits' backend cannot be read
    now), every tenant the caller may see (with limits or not), and how many tenants and keys
    with limits were left out past :data:`MAX_READ_OWNERS`."""

    readings: list[LimitReading] | None
    tenants: list[str]
    left_out: int


class GatewayQueries:
    """The doors' questions, answered from the parts the Gateway set up."""

    config: SwitchyardConfig
    router: Router
    _status: GatewayStatus
    keyring: KeyRing | None
    accounts: Accounts | None
    ledger: UsageLedger | None
    admission: Admission | None
    metrics: Metrics | None
    recent_failures: RecentErrors
    _conversations: Conversations | None = None

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

    def default_embedding_model(self, principal: Principal | None = None) -> str | None:
        """The model an embeddings request that names none gets: the first alias ``principal``
        may use whose first deployment the catalog says embeds (None: there is none)."""
        for alias in self._status.aliases():
            first = alias.deployments[0].info if alias.deployments else None
            if first is None or not first.capabilities.embeddings:
                continue
            if principal is None or principal.may_use(alias.name):
                return alias.name
        return None

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

    def context_window(self, model: str, principal: Principal | None = None) -> int | None:
        """The context window every deployment of ``model`` has: the smallest the catalog
        knows of them (None: it knows none), so a prompt that fits it fits whichever answers.
        403 when the caller may not use the model, 404 when there is no such model."""
        authorize(principal or Principal.anonymous_admin(), model)
        route = self.router.route(model)
        windows = [c.info.context_window for c in route.candidates if c.info is not None]
        return min(windows, default=None)

    @property
    def sessions(self) -> Conversations:
        """Conversations (server-side chat history), built on first use: in the ``storage``
        database when configured, else in memory (see :mod:`switchyard.conversations`)."""
        if self._conversations is None:
            from switchyard.conversations import Conversations, MemoryStore, SessionStore

            settings = self.config.conversations
            days = settings.retention_days
            store: SessionStore = MemoryStore(settings.memory_max_sessions, days)
            if self.ledger is not None:  # the ledger's engine migrated the schema on start
                from switchyard.conversations.sql_store import SqlStore

                store = SqlStore(self.ledger.engine, days)
            # self is the Gateway (this class is its mixin), which has chat and stream too
            gateway = cast("ConversationGateway", self)
            self._conversations = Conversations(settings, store, gateway)
        return self._conversations

    def conversation(
        self,
        *,
        model: str | None = None,
        system: str | None = None,
        id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        principal: Principal | None = None,
    ) -> Conversation:
        """A conversation whose history the gateway keeps: a new one (``model``, ``system``)
        or, with ``id``, one stored earlier by the same caller. ``await
        conversation.say("...")``; see :class:`~switchyard.conversations.Conversation`."""
        from switchyard.conversations import Conversation

        caller = principal or Principal.anonymous_admin()
        return Conversation(
            self.sessions, caller, id=id, model=model, system=system, metadata=metadata
        )

    def speaks_responses(self, provider: str) -> bool:
        """Whether the provider ``provider`` (a config name) talks to its upstream in OpenAI's
        Responses API (``wire_api: responses``): then the Responses door's own fields (hosted
        tools, encrypted reasoning) reached it, and its reasoning comes back as it was."""
        settings = self.config.providers.get(provider)
        return isinstance(settings, OpenAISettings) and settings.wire_api == "responses"

    def provider_names(self) -> list[str]:
        return self._status.provider_names()

    def takes_json_schema(self, model: str, principal: Principal | None = None) -> bool:
        """Whether every deployment ``model`` routes to takes ``response_format:
        json_schema`` (its adapter and, when the catalog knows it, its model): then asking for
        one narrows no routing. 403 when the caller may not use the model, 404 when there is
        no such model."""
        authorize(principal or Principal.anonymous_admin(), model)
        return all(
            c.provider.capabilities.json_mode and (c.info is None or c.info.capabilities.json_mode)
            for c in self.router.route(model).candidates
        )

    def deployment_at(
        self, model: str, provider: str, principal: Principal | None = None
    ) -> str | None:
        """``provider/model`` of the first deployment of ``model`` (an alias) at the provider
        named ``provider``; None when it has none. 403 and 404 as :meth:`takes_json_schema`."""
        authorize(principal or Principal.anonymous_admin(), model)
        candidates = self.router.route(model).candidates
        return next((c.key for c in candidates if c.provider.name == provider), None)

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

    async def limit_readings(self, principal: Principal | None = None) -> LimitsReport:
        """Every limit and budget ``principal`` may see, as it stands now (used, remaining):
        the admin (the master key, the library's default caller) sees ``limits.global``, every
        tenant and every live key with limits of its own; a tenant's key its own tenant and
        its tenant's keys, never another's. At most :data:`MAX_READ_OWNERS` tenants and as
        many keys with limits are read (``left_out`` counts the others)."""
        caller = principal or Principal.anonymous_admin()
        owners: list[LimitOwner] = []
        if caller.admin and self.config.limits.global_ is not None:
            owners.append(("global", "", self.config.limits.global_, None))
        accounts, tenants = self.accounts, []
        tenant_owners: list[LimitOwner] = []
        key_owners: list[LimitOwner] = []
        if accounts is not None and (caller.admin or caller.tenant is not None):
            if caller.admin:
                for view in await accounts.tenants():
                    limits, budget = view.get("limits"), view.get("budget")
                    tenants.append(view["name"])
                    tenant_owners.append(
                        (
                            "tenant",
                            view["name"],
                            None if limits is None else Limits.model_validate(limits),
                            None if budget is None else Budget.model_validate(budget),
                        )
                    )
            else:
                tenant = await accounts.tenant(caller.tenant or "")
                tenants.append(tenant.name)
                tenant_owners.append(("tenant", tenant.name, tenant.limits, tenant.budget))
            now = datetime.now(UTC)
            key_owners = [
                ("key", row.id, row.limits, row.budget)
                for row in await accounts.keys(None if caller.admin else caller.tenant)
                if row.revoked_at is None
                and (row.expires_at is None or row.expires_at > now)
                and (row.limits is not None or row.budget is not None)
            ]
        left_out = 0
        for group in (tenant_owners, key_owners):
            limited = [o for o in group if o[2] is not None or o[3] is not None]
            left_out += max(len(limited) - MAX_READ_OWNERS, 0)
            owners += limited[:MAX_READ_OWNERS]
        readings = [] if self.admission is None else await self.admission.readings(owners)
        return LimitsReport(readings, tenants, left_out)

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
