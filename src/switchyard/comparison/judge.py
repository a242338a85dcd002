"""Comparative judgement through the gateway: which of two essays is better.

    validate (bounded essays) -> choose the judge model (``model_override`` / ``provider`` /
    ``comparison.model``) -> structured output when every deployment of that model takes a
    JSON schema, the same instruction in the prompt either way -> one judgement per order
    (A/B; and B/A at the same time with ``both_orders``) -> each a normal gateway request,
    repeated up to ``max_retries`` times while the answer is not the JSON asked for
    -> combine the orders (:mod:`switchyard.comparison.orders`) -> usage and cost of every call

Every call is an ordinary :meth:`Gateway.chat <switchyard.gateway.Gateway.chat>`: authorized
against the caller's grant, limited, cached, routed with failover, and recorded as one usage row
(tagged ``comparison``, with the caller's ``correlation_id`` as its request id). This module
needs only the few gateway methods of :class:`ComparisonGateway`, so it never imports the
Gateway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from switchyard.comparison.answer import Judgement, UnusableAnswer, parse_judgement
from switchyard.comparison.orders import combine
from switchyard.comparison.prompt import (
    Position,
    comparison_messages,
    response_format,
    retry_messages,
)
from switchyard.comparison.request import ComparisonRequest, ComparisonResult
from switchyard.config.schema import ComparisonSettings
from switchyard.errors import InvalidRequest, ModelNotFound
from switchyard.types import ChatRequest, ChatResponse, Cost, Principal, ResponseFormat

TAG = "comparison"  # on every call's usage row


class ComparisonGateway(Protocol):
    """What a comparison asks of the gateway."""

    async def chat(
        self, request: ChatRequest, /, *, principal: Principal | None = None
    ) -> ChatResponse: ...

    def default_model(self, principal: Principal | None = None) -> str | None: ...

    def provider_names(self) -> list[str]: ...

    def takes_json_schema(self, model: str, principal: Principal | None = None) -> bool: ...

    def deployment_at(
        self, model: str, provider: str, principal: Principal | None = None
    ) -> str | None: ...


@dataclass(slots=True)
class _Judged:
    judgement: Judgement
    responses: list[ChatResponse]


async def compare(
    gateway: ComparisonGateway,
    request: ComparisonRequest,
    settings: ComparisonSettings,
    principal: Principal | None = None,
) -> ComparisonResult:
    """Judge ``request`` with the model ``settings`` (or the request's overrides) name."""
    return await plan_comparison(gateway, request, settings, principal).run()


def plan_comparison(
    gateway: ComparisonGateway,
    request: ComparisonRequest,
    settings: ComparisonSettings,
    principal: Principal | None = None,
) -> Comparison:
    """Everything decided before the first model call: the limits, the caller's id, the
    judge model (authorized) and whether to ask for a JSON schema. Raises what refuses the
    comparison (400, 403, 404) before anything is spent."""
    for field in ("essay_a", "essay_b"):
        if len(getattr(request, field)) > settings.max_essay_chars:
            raise InvalidRequest(
                f"{field}: at most {settings.max_essay_chars} characters "
                "(comparison.max_essay_chars)",
                param=field,
            )
    principal = principal or Principal.anonymous_admin()
    if request.correlation_id is not None:  # the id every call of this work is recorded by
        principal = principal._replace(request_id=request.correlation_id)
    model = judge_model(gateway, request, settings, principal)
    try:
        structured = gateway.takes_json_schema(model, principal)
    except ModelNotFound as error:
        error.param = _model_param(request)
        raise
    temperature = request.temperature_override
    return Comparison(
        gateway,
        request,
        principal,
        model,
        response_format() if structured else None,
        settings.temperature if temperature is None else temperature,
        settings,
    )


def judge_model(
    gateway: ComparisonGateway,
    request: ComparisonRequest,
    settings: ComparisonSettings,
    principal: Principal,
) -> str:
    """The model to ask: ``provider`` + ``model_override`` name ``provider/model``;
    ``model_override`` alone is an alias or ``provider/model``; ``provider`` alone picks the
    comparison model's deployment at that provider; neither, ``comparison.model`` (else the
    gateway's default model). The gateway still authorizes whatever this names."""
    provider = request.provider
    if provider is not None and provider not in gateway.provider_names():
        raise InvalidRequest(f"provider: no provider named {provider!r}", param="provider")
    override = request.model_override
    if override is not None:
        if provider is None or override.startswith(f"{provider}/"):  # already provider/model
            return override
        return f"{provider}/{override}"
    model = settings.model or gateway.default_model(principal)
    if model is None:
        raise InvalidRequest(
            "model_override is required: this gateway has no comparison.model and no model "
            "to default to",
            param="model_override",
        )
    if provider is None:
        return model
    deployment = gateway.deployment_at(model, provider, principal)
    if deployment is None:
        raise InvalidRequest(
            f"provider: the comparison model {model!r} has no deployment at {provider!r}; "
            "name the model too (model_override)",
            param="provider",
        )
    return deployment


class Comparison:
    """A comparison ready to run: one judgement per order, each retried while the answer is
    unusable."""

    def __init__(
        self,
        gateway: ComparisonGateway,
        request: ComparisonRequest,
        principal: Principal,
        model: str,
        fmt: ResponseFormat | None,
        temperature: float | None,
        settings: ComparisonSettings,
    ) -> None:
        self.gateway = gateway
        self.request = request
        self.principal = principal
        self.model = model
        self.format = fmt
        self.temperature = temperature
        self.max_tokens = settings.max_tokens
        self.attempts = settings.max_retries + 1
        self.both_orders = settings.both_orders

    async def run(self) -> ComparisonResult:
        started = time.perf_counter()
        if self.both_orders:
            ab, ba = await _both(self.judge("ab"), self.judge("ba"))
            verdict, consistent = combine(ab.judgement, ba.judgement)
            runs = [ab, ba]
        else:
            ab = await self.judge("ab")
            verdict, consistent, runs = ab.judgement, None, [ab]
        responses = [r for run in runs for r in run.responses]
        served = ab.responses[-1]  # the deployment that gave the A/B judgement
        return ComparisonResult(
            winner=verdict.winner,
            justification=verdict.justification,
            confidence=round(verdict.confidence, 6),
            provider=served.served_by.provider if served.served_by else served.provider,
            model=served.served_by.model if served.served_by else served.model,
            usage=sum((r.usage for r in responses[1:]), responses[0].usage),
            cost=_total_cost(responses),
            latency_ms=round((time.perf_counter() - started) * 1000.0, 3),
            correlation_id=self.principal.request_id,
            calls=len(responses),
            position_consistent=consistent,
        )

    async def judge(self, position: Position) -> _Judged:
        request = self.request
        asked = comparison_messages(request.user_prompt, request.essay_a, request.essay_b, position)
        messages = asked
        responses: list[ChatResponse] = []
        reason = ""
        for _ in range(self.attempts):
            response = await self.gateway.chat(
                ChatRequest(
                    model=self.model,
                    messages=messages,
                    response_format=self.format,
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                    tags=[TAG],
                ),
                principal=self.principal,
            )
            responses.append(response)
            text = response.text
            try:
                return _Judged(parse_judgement(text, position), responses)
            except UnusableAnswer as error:
                reason = error.message
                if response.choices[0].finish_reason == "length":
                    reason += f" (cut off at max_tokens={self.max_tokens})"
                messages = retry_messages(asked, text, reason)  # ask again, saying what was wrong
        raise UnusableAnswer(
            f"the model did not answer with the comparison JSON in {self.attempts} "
            f"attempt(s) (comparison.max_retries); last problem: {reason}",
            provider=response.provider,
        )


async def _both(
    first: Coroutine[Any, Any, _Judged], second: Coroutine[Any, Any, _Judged]
) -> tuple[_Judged, _Judged]:
    """Both judgements at once; when one fails the other is cancelled and the failure raised
    as it is (not as an exception group)."""
    try:
        async with asyncio.TaskGroup() as group:
            one, other = group.create_task(first), group.create_task(second)
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return one.result(), other.result()


def _total_cost(responses: list[ChatResponse]) -> Cost | None:
    """The sum of every call's cost; None when any call was unpriced (never a fake 0)."""
    priced = [r.cost for r in responses if r.cost is not None]
    if len(priced) < len(responses):
        return None
    return sum(priced[1:], priced[0])


def _model_param(request: ComparisonRequest) -> str:
    if request.model_override is not None:
        return "model_override"
    return "provider" if request.provider is not None else "model"


__all__ = ["TAG", "Comparison", "ComparisonGateway", "compare", "judge_model", "plan_comparison"]
