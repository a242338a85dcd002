"""The Gateway: the request path every front door (and every library call) goes through.

    request -> router.resolve (alias or provider/model -> ordered deployments)
            -> AttemptRunner (breaker, per-attempt timeout, failover, backoff, deadline)
            -> provider call -> cost from the catalog's or the deployment's prices
            -> the response, with ``served_by`` saying who answered and after how many attempts

``Gateway.from_config()`` is the one place collaborators are built; nothing after it reads the
environment or a module global.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from switchyard.catalog.catalog import Catalog
from switchyard.chat_stream import ChatStream
from switchyard.config.load import load_config
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import ContextLengthExceeded, InvalidRequest
from switchyard.providers.base import Provider, Timeouts
from switchyard.providers.registry import build_provider
from switchyard.resilience.breaker import BreakerStore
from switchyard.resilience.retry import RetryPolicy
from switchyard.resilience.stores import build_breaker_store
from switchyard.routing.attempts import AttemptRunner, Outcome
from switchyard.routing.health import HealthBoard
from switchyard.routing.hedging import Abandoned
from switchyard.routing.probes import HealthProber
from switchyard.routing.router import Candidate, Router, for_candidate
from switchyard.types import (
    AbandonedAttempt,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ServedBy,
)

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
    ) -> None:
        self.config = config
        self.catalog = catalog or Catalog.from_settings(config.catalog)
        self.providers: dict[str, Provider[Any]] = {
            name: build_provider(name, settings, catalog=self.catalog)
            for name, settings in config.providers.items()
        }
        self.providers.update(providers or {})
        rng = rng or random.Random()
        router_settings = config.router
        self.breakers: BreakerStore = breakers or build_breaker_store(
            router_settings.breaker_store, clock
        )
        self._owns_breakers = breakers is None
        self.health = HealthBoard(clock)
        self.router = Router(
            config.models,
            self.providers,
            catalog=self.catalog,
            default_timeout=Timeouts(total=router_settings.deadline_seconds),
            default_breaker=router_settings.circuit_breaker,
            health=self.health,
            rng=rng,
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
            ),
            self.breakers,
            self.health,
            clock,
            sleep,
        )
        self._clock = clock
        self._started = False

    @classmethod
    def from_config(cls, source: ConfigSource = None, **options: Any) -> Gateway:
        """From a YAML path, a mapping, a validated config, ``$SWITCHYARD_CONFIG`` or the
        embedded defaults (``None``)."""
        config = source if isinstance(source, SwitchyardConfig) else load_config(source)
        return cls(config, **options)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if not self._started:
            self._started = True
            await asyncio.gather(*(p.start() for p in self.providers.values()))
            self.prober.start()

    async def aclose(self) -> None:
        self._started = False
        await self.prober.aclose()
        await asyncio.gather(*(p.aclose() for p in self.providers.values()))
        if self._owns_breakers:
            await self.breakers.aclose()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the request path -----------------------------------------------------------------

    async def chat(
        self, request: ChatRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ChatResponse:
        """One chat completion, failing over across the alias's deployments."""
        chat = _coerce(ChatRequest, request, fields)
        deadline = self._deadline(chat.timeout)
        hedge = self.router.route(chat.model).hedge

        async def attempt(candidates: list[Candidate]) -> Outcome[ChatResponse]:
            return await self._runner.run(
                candidates,
                lambda c: c.provider.chat(for_candidate(chat, c)),
                deadline=deadline,
                attempt_timeout=lambda c: c.timeout.total,
                hedge=hedge,
            )

        try:
            outcome = await attempt(self.router.resolve(chat, chat.prefer))
        except ContextLengthExceeded as exc:
            larger = self._larger_context(chat, exc)
            if larger is None:
                raise
            outcome = await attempt(larger)
        return _attribute(outcome)

    def stream(
        self, request: ChatRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ChatStream:
        """A streamed chat completion: ``async for chunk in gateway.stream(...)``."""
        chat = _coerce(ChatRequest, request, fields)
        chat.stream = True
        route = self.router.route(chat.model)
        return ChatStream(
            chat,
            self.router.resolve(chat, chat.prefer),
            self._runner,
            deadline=self._deadline(chat.timeout),
            clock=self._clock,
            on_context_exceeded=lambda exc: self._larger_context(chat, exc),
            hedge=route.hedge,
            mid_stream_failover=route.mid_stream_failover,
            tokens=self.router.tokens,
        )

    async def embed(
        self, request: EmbeddingRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> EmbeddingResponse:
        embedding = _coerce(EmbeddingRequest, request, fields)
        outcome = await self._runner.run(
            self.router.resolve_embedding(embedding.model),
            lambda c: c.provider.embed(embedding.model_copy(update={"model": c.model})),
            deadline=self._deadline(None),
            attempt_timeout=lambda c: c.timeout.total,
        )
        return _attribute(outcome)

    def _larger_context(
        self, chat: ChatRequest, error: ContextLengthExceeded
    ) -> list[Candidate] | None:
        """After a provider said the request is too long: the alias's
        ``context_window_fallbacks`` with a larger window than the one that refused."""
        route = self.router.route(chat.model)
        if not route.context_window_fallbacks:
            return None
        refused = [c for c in route.candidates if c.provider.name == error.provider]
        beyond = max((c.info.context_window for c in refused if c.info), default=0)
        return self.router.larger_context(route, chat, beyond=beyond)

    def _deadline(self, seconds: float | None) -> float:
        return self._clock() + (seconds or self.config.router.deadline_seconds)


ResponseT = TypeVar("ResponseT", ChatResponse, EmbeddingResponse)


def _attribute(outcome: Outcome[ResponseT]) -> ResponseT:
    """Say who answered, after how many attempts, and what it cost."""
    response, candidate = outcome.value, outcome.candidate
    response.provider = candidate.provider.name
    if response.cost is None and candidate.prices is not None:
        response.cost = candidate.prices.cost(response.usage)
    response.served_by = ServedBy(
        provider=candidate.provider.name,
        model=candidate.model,
        attempts=outcome.attempts,
        upstream_ms=outcome.upstream_seconds * 1000.0,
        hedged=outcome.hedged,
        abandoned=[_abandoned(a) for a in outcome.abandoned],
    )
    return response


def _abandoned(attempt: Abandoned[ResponseT]) -> AbandonedAttempt:
    """A hedge that lost; when it had answered, its usage and cost are known."""
    candidate, answer = attempt.candidate, attempt.value
    if answer is None:
        return AbandonedAttempt(provider=candidate.provider.name, model=candidate.model)
    cost = answer.cost
    if cost is None and candidate.prices is not None:
        cost = candidate.prices.cost(answer.usage)
    return AbandonedAttempt(
        provider=candidate.provider.name,
        model=candidate.model,
        answered=True,
        usage=answer.usage,
        cost=cost,
    )


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
