"""The Gateway: the request path every front door (and every library call) goes through.

    authorize (the caller's grant) -> the prompt template, when the request names one
    -> admit (limits, budget) -> cache lookup
    -> route: router.resolve (alias or provider/model -> ordered, eligible deployments)
    -> attempts: AttemptRunner (breaker, per-attempt timeout, failover, hedging, backoff,
       deadline), context-window fallback when a provider says the request is too long
    -> settle: who answered (``served_by``) and what it cost (:mod:`switchyard.accounting`)
    -> guardrails on the answer (a stream's chunks as they pass)
    -> record: one :class:`~switchyard.records.record.RequestRecord` to every sink
    -> cache store

A streamed request takes the same stages: :class:`~switchyard.stream_lifecycle.GatewayStream`
is the Gateway's side of it, and :class:`~switchyard.chat_stream.ChatStream` only relays.
``Gateway.from_config()`` is the one place collaborators are built; nothing after it reads the
environment or a module global.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from switchyard.accounting import settle
from switchyard.admission import (
    Admission,
    Ticket,
    authorize,
    build_admission,
    limited,
    limits_configured,
)
from switchyard.cache.service import SKIP, CacheLookup, ResponseCache
from switchyard.cached_stream import CachingStream
from switchyard.catalog.catalog import Catalog
from switchyard.chat_stream import ChatStream
from switchyard.config.load import load_config
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import ContextLengthExceeded, InvalidRequest, SwitchyardError
from switchyard.gateway_queries import GatewayQueries
from switchyard.gateway_wiring import wire_storage
from switchyard.guardrails import Policy, policy_for
from switchyard.providers.base import Provider, Timeouts
from switchyard.providers.registry import build_provider
from switchyard.records.metrics import Metrics
from switchyard.records.recent_errors import RecentErrors
from switchyard.records.record import RequestKind, RequestRecord
from switchyard.records.sinks import LogSink, RecordSink, current_request_id
from switchyard.resilience.breaker import BreakerStore
from switchyard.resilience.retry import RetryPolicy
from switchyard.resilience.stores import build_breaker_store
from switchyard.routing.attempts import AttemptRunner, Outcome
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard
from switchyard.routing.probes import HealthProber
from switchyard.routing.router import AliasRoute, Router, configured_keys, for_candidate
from switchyard.status import GatewayStatus
from switchyard.stream_lifecycle import GatewayStream
from switchyard.telemetry import tracing_enabled
from switchyard.templates.library import TemplateLibrary

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from switchyard.comparison import ComparisonRequest, ComparisonResult
    from switchyard.events.publisher import EventPublisher
    from switchyard.response_store.store import ResponseStore
    from switchyard.telemetry.spans import GatewayTracer
from switchyard.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Principal,
)

log = logging.getLogger("switchyard.gateway")
MAX_ALIAS = 256  # what a refused request's record keeps of the model name it sent
T = TypeVar("T")
RequestT = TypeVar("RequestT", ChatRequest, EmbeddingRequest)
ConfigSource = SwitchyardConfig | str | Path | Mapping[str, Any] | None


class Gateway(GatewayQueries):
    """Use as ``async with Gateway.from_config("switchyard.yaml") as gateway: ...``."""

    def __init__(
        self,
        config: SwitchyardConfig,
        *,
        providers: Mapping[str, Provider[Any]] | None = None,
        catalog: Catalog | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        breakers: BreakerStore | None = None,
        probe_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sinks: Sequence[RecordSink] = (),
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.config = config
        # where every request's record goes: the log line (unless the caller brings its own
        # LogSink), then any other sink the caller adds
        logged = any(isinstance(sink, LogSink) for sink in sinks)
        self.sinks: list[RecordSink] = [*([] if logged else [LogSink()]), *sinks]
        self.recent_failures = RecentErrors()  # the dashboard's recent errors (per process)
        self.sinks.append(self.recent_failures)
        # the usage ledger, tenants and keys (with ``storage``), and budgets' spend
        stored = wire_storage(config)
        self.ledger, self.accounts = stored.ledger, stored.accounts
        self.keyring, self.revocations = stored.keyring, stored.revocations
        if self.ledger is not None:
            self.sinks.append(self.ledger)
        # prompt templates: the config's, and the admin API's with storage (a request that
        # names one is rendered first; one that names none never reaches it)
        self.templates = TemplateLibrary(config.templates, config.template_limits, stored.templates)
        self.metrics: Metrics | None = None
        if config.server.metrics:  # Prometheus counters, read by GET /metrics
            self.metrics = Metrics(
                aliases=(alias.name for alias in config.models),
                deployments={(d.provider, d.model) for a in config.models for d in a.deployments},
                providers=[*config.providers, *(providers or {})],
            )
            self.sinks.append(self.metrics)
        self.events: EventPublisher | None = None
        if config.events is not None:  # usage events, published off the request path
            from switchyard.events.publisher import EventPublisher

            self.events = EventPublisher(config.events, metrics=self.metrics)
            self.sinks.append(self.events)
        self.catalog = catalog or Catalog.from_settings(config.catalog)
        self.providers: dict[str, Provider[Any]] = {
            name: build_provider(name, settings, catalog=self.catalog)
            for name, settings in config.providers.items()
        }
        self.providers.update(providers or {})
        rng = rng or random.Random()
        router_settings = config.router
        # configured deployments keep their records; made-up provider/model names are capped
        keep, max_direct = configured_keys(config.models), router_settings.max_direct_deployments
        self.breakers: BreakerStore = breakers or build_breaker_store(
            router_settings.breaker_store, clock, keep=keep, max_direct=max_direct
        )
        self._owns_breakers = breakers is None
        self.health = HealthBoard(clock, keep=keep, max_direct=max_direct)
        self.router = Router(
            config.models,
            self.providers,
            catalog=self.catalog,
            default_timeout=Timeouts(total=router_settings.deadline_seconds),
            default_breaker=router_settings.circuit_breaker,
            health=self.health,
            rng=rng,
            max_direct=max_direct,
        )
        # the limits-and-budget stage: built when something can be limited (keys need storage;
        # a library caller's Principal may bring a grant with limits: built on first sight)
        self.admission: Admission | None = None
        self._spend = stored.spend
        self._responses = stored.responses  # without storage: in memory, on first use
        if config.storage is not None or limits_configured(config):
            self._build_admission()
        self.prober = HealthProber(
            self.providers, self.router.candidates(), self.health, clock=clock, sleep=probe_sleep
        )
        backoff = router_settings.backoff
        self._runner = AttemptRunner(
            RetryPolicy(
                retries=router_settings.retries,
                initial=backoff.initial,
                maximum=backoff.maximum,
                multiplier=backoff.multiplier,
                rng=rng,
                max_retry_after=router_settings.max_retry_after_seconds,
            ),
            self.breakers,
            self.health,
            clock,
            sleep,
            gate=self.admission.deployment_gate
            if self.admission is not None and self.admission.deployment_limits
            else None,
        )
        self._clock = clock
        # the aliases' guardrails, compiled with the config (a tenant's come on its grant)
        self._guardrails: dict[str, Policy] = {}
        for alias in config.models:
            policy = Policy.of([guardrail.rule for guardrail in alias.guardrails])
            if policy is not None:
                self._guardrails[alias.name] = policy
        # the response cache (None: no cache section, nothing is cached); its TTLs run on
        # the Gateway's clock in memory, on Redis's own expiry in Redis
        self.cache: ResponseCache | None = None
        if config.cache is not None:
            self.cache = ResponseCache.build(
                config.cache,
                {alias.name: alias.cache for alias in config.models},
                clock=clock,
                embed=self._embed_for_cache,
            )
        # OpenTelemetry traces (telemetry.otel, OTEL_SDK_DISABLED=false, or a caller's
        # tracer_provider): off, the SDK is never imported and every hook is one None test
        self._tracer: GatewayTracer | None = None
        if tracer_provider is not None or tracing_enabled(config.telemetry, os.environ):
            from switchyard.telemetry.spans import GatewayTracer

            self._tracer = GatewayTracer.build(config, tracer_provider, os.environ)
            self.sinks.insert(0, self._tracer)  # spans end first, before slower sinks
        self._started = False
        self._status = GatewayStatus(
            self.router,
            self.providers,
            self.health,
            self.breakers,
            self.prober,
            default_timeout=router_settings.deadline_seconds,
            catalog=self.catalog,
        )

    @classmethod
    def from_config(cls, source: ConfigSource = None, **options: Any) -> Gateway:
        """From a YAML path, a mapping, a validated config, ``$SWITCHYARD_CONFIG`` or the
        embedded defaults (``None``)."""
        config = source if isinstance(source, SwitchyardConfig) else load_config(source)
        return cls(config, **options)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if not self._started:
            if self.ledger is not None:
                await self.ledger.start()
            if self.revocations is not None:
                await self.revocations.start()
            if self.events is not None:
                await self.events.start()
            self._started = True
            await asyncio.gather(*(p.start() for p in self.providers.values()))
            self.prober.start()

    async def aclose(self) -> None:
        self._started = False
        await self.prober.aclose()
        await asyncio.gather(*(p.aclose() for p in self.providers.values()))
        if self._owns_breakers:
            await self.breakers.aclose()
        if self.admission is not None:
            await self.admission.limiter.aclose()  # pending corrections applied first
        if self.revocations is not None:
            await self.revocations.aclose()
        if self.cache is not None:
            await self.cache.aclose()
        if self._responses is not None:
            await self._responses.aclose()  # stored responses written, before the engine goes
        if self._conversations is not None:
            await self._conversations.store.aclose()  # a purge finished, before the engine goes
        if self.ledger is not None:
            await self.ledger.aclose()  # after the drain: every answered request is written
        if self.events is not None:
            await self.events.aclose()  # queued events published (events.flush_seconds)
        if self._tracer is not None:
            await self._tracer.aclose()  # pending spans exported

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def response_store(self) -> ResponseStore:
        """Where the Responses door keeps its answers for ``previous_response_id``: the
        storage database's ``responses`` table, else a bounded in-memory LRU built on first
        use (a gateway that never serves ``/v1/responses`` never builds it)."""
        if self._responses is None:
            from switchyard.response_store.store import MemoryResponseStore

            settings = self.config.responses
            self._responses = MemoryResponseStore(
                settings.max_stored, settings.max_bytes, settings.retention_days
            )
        return self._responses

    @property
    def tracing(self) -> bool:
        """Whether requests are traced (then a door hands over the caller's trace context on
        the :class:`~switchyard.types.Principal`)."""
        return self._tracer is not None

    # -- the request path -----------------------------------------------------------------
    #
    # Every request, plain or streamed, takes the same stages in this order:
    #   authorize -> template (when named) -> guardrails (input) -> admit (limits, budget)
    #   -> cache lookup -> route -> attempts -> settle -> guardrails (answer) -> record
    #   -> cache store
    # A new feature is one call at its stage here, or a sink of the record. The doors' other
    # questions are in switchyard.gateway_queries, the storage-backed parts' wiring in
    # switchyard.gateway_wiring.

    async def chat(
        self,
        request: ChatRequest | Mapping[str, Any] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> ChatResponse:
        """One chat completion, failing over across the alias's deployments."""
        chat = self._valid(ChatRequest, request, fields, principal, "chat")
        record = self._begin(principal, "chat", chat.model, chat.tags, chat)
        try:
            authorize(record.principal, chat.model)
            if chat.template is not None:  # the prompt template, rendered before the limits
                chat, record.template = await self.templates.applied(chat)
            route = self.router.route(chat.model)
            guardrails = policy_for(self._guardrails, record.principal, chat.model)
            if guardrails is not None:  # the input as it may go on (redacted), or refused
                chat = guardrails.check_input(chat, record)
            tokens = await self._admit(record, route, chat)  # limits and budget
            lookup = await self._cache_lookup(chat, record)  # after the limits, never before
            if lookup.hit is not None:
                assert self.cache is not None
                response = self.cache.answer(lookup, record)
                self._end(record)  # a hit settles no tokens and no cost against the limits
                return response
            deadline = self._deadline(chat.timeout)

            async def attempt(candidates: Sequence[Candidate]) -> Outcome[ChatResponse]:
                return await self._runner.run(
                    candidates,
                    self._traced(record, lambda c: c.provider.chat(for_candidate(chat, c))),
                    deadline=deadline,
                    attempt_timeout=lambda c: c.timeout.total,
                    hedge=route.hedge,
                    tokens=tokens,
                )

            outcome, _ = await self._route_and_attempt(chat, route, attempt)
            response = settle(outcome, record)
            if guardrails is not None:  # the answer as it may be shown, or refused
                response = guardrails.check_answer(response, record)
        except BaseException as error:
            self._end(record, error)
            raise
        self._end(record)
        if self.cache is not None:  # cache store
            response.cache_status = lookup.status
            await self.cache.store_response(lookup, response)
        return response

    def stream(
        self,
        request: ChatRequest | Mapping[str, Any] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> ChatStream:
        """A streamed chat completion: ``async for chunk in gateway.stream(...)``. The stream
        takes the same stages as :meth:`chat`; it reports its first chunk and its end back
        through a :class:`~switchyard.stream_lifecycle.GatewayStream`."""
        chat = self._valid(ChatRequest, request, fields, principal, "stream")
        if not chat.stream:
            chat = chat.model_copy(update={"stream": True})
        record = self._begin(principal, "stream", chat.model, chat.tags, chat)
        guard = None
        try:
            authorize(record.principal, chat.model)
            # admit, then the cache lookup: when the stream starts (below)
            route = self.router.route(chat.model)
            guardrails = policy_for(self._guardrails, record.principal, chat.model)
            if guardrails is not None:  # the input now (a template's once rendered, in admit)
                if chat.template is None:  # and the answer's chunks as they pass
                    chat = guardrails.check_input(chat, record)
                guard = guardrails.stream_guard(record)
        except BaseException as error:
            self._end(record, error)
            raise
        admit = None
        admits = self.admission is not None or self._build_admission(record.principal) is not None
        if admits or chat.template is not None:
            admitted: list[int] = []

            async def admit() -> int:  # once, whichever asks first: the cache or the stream
                if not admitted:
                    if lifecycle.request.template is not None:  # rendered before the limits
                        rendered = await self.templates.applied(lifecycle.request)
                        lifecycle.request, record.template = rendered
                        if guardrails is not None:  # the rendered prompt is the input checked
                            lifecycle.request = guardrails.check_input(lifecycle.request, record)
                    request = lifecycle.request
                    admitted.append(await self._admit(record, route, request) if admits else 0)
                return admitted[0]

        lifecycle = GatewayStream(
            chat,
            route,
            record,
            deadline=self._deadline(chat.timeout),
            runner=self._runner,
            route_and_attempt=self._route_and_attempt,
            end=self._end,
            tokens=self.router.tokens,
            clock=self._clock,
            admit=admit,
            tracer=self._tracer,
        )
        if self.cache is None:
            return ChatStream(lifecycle, clock=self._clock, guard=guard)
        # the cache lookup runs when the stream starts (then a hit replays; else the chunks
        # are kept and stored once the stream ended normally and was recorded)
        return CachingStream(
            lifecycle,
            cache=self.cache,
            lookup=lambda: self._cache_lookup(lifecycle, record, admit),
            record=record,
            clock=self._clock,
            guard=guard,
        )

    async def complete(
        self,
        prompt: str,
        /,
        *,
        model: str | None = None,
        system: str | None = None,
        principal: Principal | None = None,
        **fields: Any,
    ) -> ChatResponse:
        """``await gateway.complete("What is 2+2?")``: one user message (after ``system``, when
        given) through :meth:`chat`, on ``model`` or the caller's default model (see
        :meth:`default_model`); ``fields`` are any other :class:`ChatRequest` fields
        (``max_tokens``, ``temperature``, ...). ``response.text`` is the answer."""
        return await self.chat(
            prompt_request(prompt, model or self.default_model(principal), system),
            principal=principal,
            **fields,
        )

    async def embed(
        self,
        request: EmbeddingRequest | Mapping[str, Any] | str | Sequence[str] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> EmbeddingResponse:
        """Embeddings of ``input``: ``await gateway.embed("one text")``, a list of texts, or a
        request (mapping or :class:`EmbeddingRequest`). Without a ``model``: the first alias
        whose deployments embed (see :meth:`default_embedding_model`)."""
        body: EmbeddingRequest | Mapping[str, Any] | None = None
        if request is None or isinstance(request, EmbeddingRequest | Mapping):
            body = request
        else:  # the texts themselves: one string or a list of them
            fields = {"input": request, **fields}
        if "model" not in fields and _field(body, "model") is None:
            default = self.default_embedding_model(principal)
            if default is not None:  # else the request is refused (and recorded) for its model
                fields["model"] = default
        embedding = self._valid(EmbeddingRequest, body, fields, principal, "embed")
        record = self._begin(principal, "embed", embedding.model, request=embedding)
        try:
            authorize(record.principal, embedding.model)
            tokens = 0
            admission = self.admission or self._build_admission(record.principal)
            if admission is not None:  # limits and budget
                route = self.router.route(embedding.model)
                ticket = await admission.admit_embed(record.principal, embedding, route)
                tokens = self._admitted(record, ticket)
            await self._room_for_the_record()
            outcome = await self._runner.run(
                self.router.resolve_embedding(embedding.model),
                self._traced(
                    record,
                    lambda c: c.provider.embed(embedding.model_copy(update={"model": c.model})),
                ),
                deadline=self._deadline(None),
                attempt_timeout=lambda c: c.timeout.total,
                tokens=tokens,
            )
            response = settle(outcome, record)
        except BaseException as error:
            self._end(record, error)
            raise
        self._end(record)
        return response

    async def compare(
        self,
        request: ComparisonRequest | Mapping[str, Any] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> ComparisonResult:
        """Which essay answers a task better: ``compare(user_prompt=..., essay_a=...,
        essay_b=...)``, judged by ``comparison.model`` unless the request overrides it (see
        :mod:`switchyard.comparison`). Each model call is a :meth:`chat` request of its own; a
        comparison refused before any call (a field, the model, the caller's grant) is still
        one record."""
        from switchyard.comparison import parse_comparison, plan_comparison

        try:
            comparison = parse_comparison(request, fields)
            plan = plan_comparison(self, comparison, self.config.comparison, principal)
        except SwitchyardError as error:
            asked = fields.get("model_override", _field(request, "model_override"))
            self.refused(principal, "chat", asked or "", error)
            raise
        return await plan.run()

    def _traced(
        self, record: RequestRecord, call: Callable[[Candidate], Awaitable[T]]
    ) -> Callable[[Candidate], Awaitable[T]]:
        """An attempt's provider call, in its own span when tracing is on."""
        return call if self._tracer is None else self._tracer.attempt(record, call)

    async def _cache_lookup(
        self,
        chat: ChatRequest | GatewayStream,
        record: RequestRecord,
        admit: Callable[[], Awaitable[int]] | None = None,
    ) -> CacheLookup:
        """The cache lookup stage: a hit, a miss, or a skip. Always after authorize and the
        limits (a stream's ``admit`` runs here first): a request a limit refuses is refused
        even when the cache could have answered it. A stream's request is read after its
        ``admit``, which renders its template."""
        if admit is not None:
            await admit()
        if isinstance(chat, GatewayStream):
            chat = chat.request
        if self.cache is None:
            return SKIP
        lookup = await self.cache.lookup(chat, record.principal)
        record.cache_result = lookup.status
        if self._tracer is not None:
            self._tracer.cache(record, lookup.status)
        return lookup

    async def _embed_for_cache(
        self, model: str, text: str, principal: Principal
    ) -> Sequence[float]:
        """The semantic cache's embedding of ``text``: a request of its own through
        :meth:`embed` (recorded like any, same caller and request id)."""
        response = await self.embed(model=model, input=[text], principal=principal)
        return response.data[0]

    async def _route_and_attempt(
        self,
        chat: ChatRequest,
        route: AliasRoute,
        attempt: Callable[[Sequence[Candidate]], Awaitable[Outcome[T]]],
    ) -> tuple[Outcome[T], Sequence[Candidate]]:
        """Route (resolve the ordered candidates), then run the attempts on them. When a
        provider says the request is too long, the alias's ``context_window_fallbacks`` with a
        larger window than the one that refused get their turn."""
        await self._room_for_the_record()
        candidates: Sequence[Candidate] = self.router.resolve(chat, chat.prefer)
        try:
            return await attempt(candidates), candidates
        except ContextLengthExceeded as exc:
            if not route.context_window_fallbacks:
                raise
            refused = [c for c in route.candidates if c.provider.name == exc.provider]
            beyond = max((c.info.context_window for c in refused if c.info), default=0)
            larger = self.router.larger_context(route, chat, beyond=beyond)
            return await attempt(larger), larger

    async def _admit(self, record: RequestRecord, route: AliasRoute, chat: ChatRequest) -> int:
        """The limits-and-budget stage (after authorize, before the cache): charge the
        request or raise 429/403/503; the tokens each attempt charges a deployment."""
        admission = self.admission or self._build_admission(record.principal)
        if admission is None:
            return 0
        ticket = await admission.admit_chat(record.principal, chat, route)
        return self._admitted(record, ticket)

    def _build_admission(self, principal: Principal | None = None) -> Admission | None:
        grant = None if principal is None else principal.grant
        if principal is not None and (grant is None or not limited(grant)):
            return None
        self.admission = build_admission(
            self.config, self.router.tokens, self.router.aliases, self._spend
        )
        return self.admission

    def _admitted(self, record: RequestRecord, ticket: Ticket | None) -> int:
        if ticket is None:
            return 0
        record.admission, record.rate_limits = ticket, ticket.status
        if self._tracer is not None:
            self._tracer.admitted(record, ticket)
        return ticket.estimate

    async def _room_for_the_record(self) -> None:
        """Back-pressure, briefly: with the usage queue full, wait (``full_wait_seconds`` at
        most) for the ledger to make room before the request goes upstream."""
        if self.ledger is not None and self.ledger.full:
            await self.ledger.wait_for_room()

    def _deadline(self, seconds: float | None) -> float:
        """When the request must be over: ``router.deadline_seconds`` from now, or sooner when
        the caller's ``timeout`` asks (a timeout never extends it; 0 or None: not set)."""
        limit = self.config.router.deadline_seconds
        if seconds is not None and 0.0 < seconds < limit:
            limit = seconds
        return self._clock() + limit

    # -- records --------------------------------------------------------------------------

    def _begin(
        self,
        principal: Principal | None,
        kind: RequestKind,
        alias: str,
        tags: Sequence[str] | None = None,
        request: ChatRequest | EmbeddingRequest | None = None,
    ) -> RequestRecord:
        """The request's record, and the stages that start with it: the request span (a
        request refused before it was valid gets its span from the record stage instead) and
        the ``request_started`` event."""
        principal = principal or Principal.anonymous_admin()
        if tags:  # the request's own labels join the caller's, once each, for the usage row
            principal = principal._replace(tags=tuple(dict.fromkeys((*principal.tags, *tags))))
        current_request_id.set(principal.request_id)  # for log lines written on its behalf
        record = RequestRecord(
            principal=principal,
            kind=kind,
            alias=alias,
            started_at=time.time(),
            started=time.perf_counter(),
        )
        if self._tracer is not None and request is not None:
            self._tracer.begin(record, request)
        if self.events is not None:  # llm_provider.request_started.v1
            self.events.started(record)
        return record

    def refused(
        self, principal: Principal | None, kind: RequestKind, model: object, error: BaseException
    ) -> None:
        """The record of a request refused before it could take the stages (a body that did
        not parse, a field that failed validation): one record, so one usage row, like any."""
        alias = model[:MAX_ALIAS] if isinstance(model, str) else ""
        self._end(self._begin(principal, kind, alias), error)

    def _valid(
        self,
        model: type[RequestT],
        request: RequestT | Mapping[str, Any] | None,
        fields: dict[str, Any],
        principal: Principal | None,
        kind: RequestKind,
    ) -> RequestT:
        try:
            return _coerce(model, request, fields)
        except InvalidRequest as error:
            asked = fields.get("model", None if request is None else _field(request, "model"))
            self.refused(principal, kind, asked, error)
            raise

    def _end(self, record: RequestRecord, error: BaseException | None = None) -> None:
        """The record stage: finish ``record`` and hand it to every sink."""
        record.latency_ms = (time.perf_counter() - record.started) * 1000.0
        if error is not None:
            record.failed(error)
        if record.admission is not None and self.admission is not None:
            # settle the limits and budget: the real usage and cost (none for a cache hit)
            self.admission.settle(record.admission, record)  # type: ignore[arg-type]
        for sink in self.sinks:
            try:
                sink.emit(record)
            except Exception:  # a sink never fails the request it describes
                log.exception("record sink %r failed on request %s", sink, record.request_id)


def prompt_request(prompt: str, model: str | None, system: str | None = None) -> dict[str, Any]:
    """The chat request of a plain prompt: ``system`` (when given) then one user message
    (no ``model``: none was given and none is configured, so validation refuses it)."""
    if not isinstance(prompt, str):
        raise InvalidRequest("prompt: must be a string", param="prompt")
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return {"messages": messages} if model is None else {"model": model, "messages": messages}


def _field(request: object, name: str) -> object:
    return request.get(name) if isinstance(request, Mapping) else getattr(request, name, None)


def _coerce(
    model: type[RequestT], request: RequestT | Mapping[str, Any] | None, fields: dict[str, Any]
) -> RequestT:
    if isinstance(request, model):
        return request.model_copy(update=fields) if fields else request
    data: dict[str, Any] = dict(request or {})
    data.update(fields)
    if model is EmbeddingRequest and isinstance(data.get("input"), str):
        data["input"] = [data["input"]]
    elif data.get("template") is not None:  # a template's messages may be the whole prompt
        data.setdefault("messages", [])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        param = ".".join(str(p) for p in errors[0]["loc"]) if errors else None
        raise InvalidRequest(f"invalid request: {exc}", param=param) from None


__all__ = ["Gateway"]
