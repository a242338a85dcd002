"""The Gateway: the request path every front door (and every library call) goes through.

    authorize -> admit -> cache lookup            (stages to come: keys, limits, cache)
    -> route: router.resolve (alias or provider/model -> ordered, eligible deployments)
    -> attempts: AttemptRunner (breaker, per-attempt timeout, failover, hedging, backoff,
       deadline), context-window fallback when a provider says the request is too long
    -> settle: who answered (``served_by``) and what it cost (:mod:`switchyard.accounting`)
    -> record: one :class:`~switchyard.records.record.RequestRecord` to every sink

A streamed request takes the same stages: :class:`~switchyard.stream_lifecycle.GatewayStream`
is the Gateway's side of it, and :class:`~switchyard.chat_stream.ChatStream` only relays.
``Gateway.from_config()`` is the one place collaborators are built; nothing after it reads the
environment or a module global.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from switchyard.accounting import cost_of, served_by
from switchyard.cache.service import SKIP, CacheLookup, ResponseCache
from switchyard.cached_stream import CachingStream
from switchyard.catalog.catalog import Catalog
from switchyard.chat_stream import ChatStream
from switchyard.config.load import load_config
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import ContextLengthExceeded, InvalidRequest
from switchyard.providers.base import Provider, Timeouts
from switchyard.providers.registry import build_provider
from switchyard.records.record import AttemptRecord, RequestKind, RequestRecord
from switchyard.records.sinks import LogSink, RecordSink
from switchyard.resilience.breaker import BreakerStore, BreakerView
from switchyard.resilience.retry import RetryPolicy
from switchyard.resilience.stores import build_breaker_store
from switchyard.routing.attempts import AttemptRunner, Outcome
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard
from switchyard.routing.probes import HealthProber, ProbeResult
from switchyard.routing.router import AliasRoute, Router, configured_keys, for_candidate
from switchyard.status import DeploymentStatus, GatewayStatus, ModelListing, ProvidersReport
from switchyard.stream_lifecycle import GatewayStream

if TYPE_CHECKING:
    from switchyard.tenancy.accounts import Accounts
    from switchyard.usage.ledger import UsageLedger
from switchyard.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Principal,
)

log = logging.getLogger("switchyard.gateway")
T = TypeVar("T")
RequestT = TypeVar("RequestT", ChatRequest, EmbeddingRequest)
ConfigSource = SwitchyardConfig | str | Path | Mapping[str, Any] | None


class Gateway:
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
    ) -> None:
        self.config = config
        # where every request's record goes: the log line (unless the caller brings its own
        # LogSink), then any other sink the caller adds
        logged = any(isinstance(sink, LogSink) for sink in sinks)
        self.sinks: list[RecordSink] = [*([] if logged else [LogSink()]), *sinks]
        self.ledger: UsageLedger | None = None
        self.accounts: Accounts | None = None
        if config.storage is not None:  # one usage row per request, written off the path
            # the storage extra's SQLAlchemy, imported only when storage is configured
            from switchyard.storage.engine import build_engine
            from switchyard.tenancy.accounts import Accounts
            from switchyard.tenancy.store import KeyStore
            from switchyard.usage.ledger import UsageLedger

            engine = build_engine(config.storage)
            self.ledger = UsageLedger(config.storage, engine=engine)
            self.sinks.append(self.ledger)
            self.accounts = Accounts(
                config.tenants,
                KeyStore(engine),
                aliases={alias.name for alias in config.models},
                providers=set(config.providers),
            )
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
        )
        self._clock = clock
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
        self._started = False
        self._status = GatewayStatus(
            self.router,
            self.providers,
            self.health,
            self.breakers,
            self.prober,
            default_timeout=router_settings.deadline_seconds,
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
            self._started = True
            await asyncio.gather(*(p.start() for p in self.providers.values()))
            self.prober.start()

    async def aclose(self) -> None:
        self._started = False
        await self.prober.aclose()
        await asyncio.gather(*(p.aclose() for p in self.providers.values()))
        if self._owns_breakers:
            await self.breakers.aclose()
        if self.cache is not None:
            await self.cache.aclose()
        if self.ledger is not None:
            await self.ledger.aclose()  # after the drain: every answered request is written

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- what the doors may ask -------------------------------------------------------------

    def models(self) -> list[ModelListing]:
        """The aliases, then every configured ``provider/model`` deployment."""
        return self._status.models()

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

    async def test_provider(
        self, name: str, mode: str = "health", model: str | None = None
    ) -> tuple[str | None, ProbeResult]:
        """Probe a provider now (``health`` check, or one ``chat`` token from ``model``)."""
        return await self._status.test_provider(name, mode, model)

    # -- the request path -----------------------------------------------------------------
    #
    # Every request, plain or streamed, takes the same stages in this order:
    #   authorize -> admit (limits, budget) -> cache lookup -> route -> attempts -> settle
    #   -> record -> cache store
    # Stages not built yet are absent; each will be one call at the place its comment marks.

    async def chat(
        self,
        request: ChatRequest | Mapping[str, Any] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> ChatResponse:
        """One chat completion, failing over across the alias's deployments."""
        chat = _coerce(ChatRequest, request, fields)
        record = self._begin(principal, "chat", chat.model)
        try:
            # authorize, admit: here, once built
            lookup = await self._cache_lookup(chat, record)
            if lookup.hit is not None:
                assert self.cache is not None
                response = self.cache.answer(lookup, record)
                self._end(record)
                return response
            route = self.router.route(chat.model)
            deadline = self._deadline(chat.timeout)

            async def attempt(candidates: Sequence[Candidate]) -> Outcome[ChatResponse]:
                return await self._runner.run(
                    candidates,
                    lambda c: c.provider.chat(for_candidate(chat, c)),
                    deadline=deadline,
                    attempt_timeout=lambda c: c.timeout.total,
                    hedge=route.hedge,
                )

            outcome, _ = await self._route_and_attempt(chat, route, attempt)
            response = _settle(outcome, record)
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
        chat = _coerce(ChatRequest, request, fields)
        if not chat.stream:
            chat = chat.model_copy(update={"stream": True})
        record = self._begin(principal, "stream", chat.model)
        try:
            # authorize, admit: here, once built
            route = self.router.route(chat.model)
        except BaseException as error:
            self._end(record, error)
            raise
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
        )
        if self.cache is None:
            return ChatStream(lifecycle, clock=self._clock)
        # the cache lookup runs when the stream starts (then a hit replays; else the chunks
        # are kept and stored once the stream ended normally and was recorded)
        return CachingStream(
            lifecycle,
            cache=self.cache,
            lookup=lambda: self._cache_lookup(chat, record),
            record=record,
            clock=self._clock,
        )

    async def embed(
        self,
        request: EmbeddingRequest | Mapping[str, Any] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> EmbeddingResponse:
        embedding = _coerce(EmbeddingRequest, request, fields)
        record = self._begin(principal, "embed", embedding.model)
        try:
            # authorize, admit, cache lookup: here, once built
            if self.ledger is not None and self.ledger.full:  # back-pressure, briefly
                await self.ledger.wait_for_room()
            outcome = await self._runner.run(
                self.router.resolve_embedding(embedding.model),
                lambda c: c.provider.embed(embedding.model_copy(update={"model": c.model})),
                deadline=self._deadline(None),
                attempt_timeout=lambda c: c.timeout.total,
            )
            response = _settle(outcome, record)
        except BaseException as error:
            self._end(record, error)
            raise
        self._end(record)
        return response

    async def _cache_lookup(self, chat: ChatRequest, record: RequestRecord) -> CacheLookup:
        """The cache lookup stage (after authorize and admit): a hit, a miss, or a skip."""
        if self.cache is None:
            return SKIP
        return await self.cache.lookup(chat, record.principal)

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
        if self.ledger is not None and self.ledger.full:  # back-pressure, briefly
            await self.ledger.wait_for_room()
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

    def _deadline(self, seconds: float | None) -> float:
        """When the request must be over: ``router.deadline_seconds`` from now, or sooner when
        the caller's ``timeout`` asks (a timeout never extends it; 0 or None: not set)."""
        limit = self.config.router.deadline_seconds
        if seconds is not None and 0.0 < seconds < limit:
            limit = seconds
        return self._clock() + limit

    # -- records --------------------------------------------------------------------------

    def _begin(self, principal: Principal | None, kind: RequestKind, alias: str) -> RequestRecord:
        return RequestRecord(
            principal=principal or Principal.anonymous_admin(),
            kind=kind,
            alias=alias,
            started_at=time.time(),
            started=time.perf_counter(),
        )

    def _end(self, record: RequestRecord, error: BaseException | None = None) -> None:
        """The record stage: finish ``record`` and hand it to every sink."""
        record.latency_ms = (time.perf_counter() - record.started) * 1000.0
        if error is not None:
            record.failed(error)
        for sink in self.sinks:
            try:
                sink.emit(record)
            except Exception:  # a sink never fails the request it describes
                log.exception("record sink %r failed on request %s", sink, record.request_id)


ResponseT = TypeVar("ResponseT", ChatResponse, EmbeddingResponse)


def _settle(outcome: Outcome[ResponseT], record: RequestRecord) -> ResponseT:
    """Say who answered, after how many attempts, and what it cost; note it on the record."""
    response, candidate = outcome.value, outcome.candidate
    response.provider = candidate.provider.name
    if response.cost is None:
        response.cost = cost_of(candidate.prices, response.usage)
    response.served_by = served = served_by(outcome, lambda answer: answer.usage)
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


def _coerce(
    model: type[RequestT], request: RequestT | Mapping[str, Any] | None, fields: dict[str, Any]
) -> RequestT:
    if isinstance(request, model):
        return request.model_copy(update=fields) if fields else request
    data: dict[str, Any] = dict(request or {})
    data.update(fields)
    if model is EmbeddingRequest and isinstance(data.get("input"), str):
        data["input"] = [data["input"]]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        param = ".".join(str(p) for p in errors[0]["loc"]) if errors else None
        raise InvalidRequest(f"invalid request: {exc}", param=param) from None


__all__ = ["Gateway"]
