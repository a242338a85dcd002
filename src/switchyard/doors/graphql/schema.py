"""The schema: queries ``models``, ``health``, ``providers``, ``usage``; the mutation
``complete``; the subscription ``completionStream``.

Resolvers only translate: every answer comes from the Gateway (its queries, ``chat`` and
``stream`` with the caller's principal), so a completion takes the one lifecycle and leaves the
same record as the OpenAI door's. A subscription's stream is closed whenever it ends: when the
client completes the operation or closes the socket, the task running it is cancelled and the
upstream call with it (recorded as cancelled).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from strawberry.types import ExecutionContext

from switchyard.doors.errors import shutting_down
from switchyard.doors.graphql.context import DoorContext
from switchyard.doors.graphql.documents import DocumentCache, limits
from switchyard.doors.graphql.errors import TaxonomyErrors, log_unexpected
from switchyard.doors.graphql.objects import (
    CompletionInput,
    CompletionResponse,
    Health,
    ModelEntry,
    ProviderState,
    UsageReport,
)
from switchyard.doors.graphql.reports import health, model_entries, provider_states, usage_report
from switchyard.doors.graphql.translate import StreamItems, completion
from switchyard.doors.http import unless_disconnected
from switchyard.errors import AdminRequired

Info = strawberry.Info[DoorContext, None]


async def _models(info: Info) -> list[ModelEntry]:
    gateway = info.context.gateway
    listing = gateway.models(info.context.caller())
    return model_entries(listing, gateway.config.models, gateway.catalog)


async def _health(info: Info) -> Health:
    info.context.caller()
    return health(await info.context.health())


async def _providers(info: Info) -> list[ProviderState]:
    if not info.context.caller().admin:
        raise AdminRequired("providers needs the master key")
    return provider_states(await info.context.gateway.provider_status())


async def _usage(
    info: Info,
    group_by: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    tenant: str | None = None,
) -> UsageReport:
    summary = await info.context.gateway.usage_summary(
        info.context.caller(), group_by=group_by, since=since, until=until, tenant=tenant
    )
    return usage_report(summary)


async def _complete(info: Info, input: CompletionInput) -> CompletionResponse:
    context = info.context
    principal = context.completion_caller()
    fields = context.completion_fields(input, principal, "chat")
    started = time.perf_counter()
    work = context.gateway.chat(fields, principal=principal)
    if isinstance(context.request, Request):  # a client that leaves cancels the call
        response = await unless_disconnected(context.request, work)
    else:
        response = await work
    return completion(response, (time.perf_counter() - started) * 1000.0)


async def _completion_stream(
    info: Info, input: CompletionInput
) -> AsyncGenerator[CompletionResponse, None]:
    context = info.context
    principal = context.completion_caller()
    fields = context.completion_fields(input, principal, "stream")
    started = time.perf_counter()
    stream = context.gateway.stream(fields, principal=principal)
    task = context.drain.enter()
    try:
        await stream.start()  # failover happens here, before the first item
        served = stream.served_by
        items = StreamItems(served.provider if served else None, stream.cache_status)
        async for chunk in stream:
            item = items.item(chunk)
            if item is not None:
                yield item
        yield items.last((time.perf_counter() - started) * 1000.0)
    except asyncio.CancelledError:
        if not context.drain.was_cut(task):
            raise
        raise shutting_down() from None  # the drain deadline: an error item, not a cut
    finally:
        context.drain.leave(task)
        await stream.aclose()


@strawberry.type
class Query:
    models: list[ModelEntry] = strawberry.field(
        resolver=_models, description="The models the caller may use, with the catalog's facts."
    )
    health: Health = strawberry.field(
        resolver=_health, description="Whether the gateway's dependencies are up."
    )
    providers: list[ProviderState] = strawberry.field(
        resolver=_providers, description="Providers and their deployments' health (master key)."
    )
    usage: UsageReport = strawberry.field(
        resolver=_usage,
        description="The usage ledger added up: the caller's tenant (any tenant, or the one "
        "named, with the master key). groupBy: tenant, key, user, alias, provider, model, "
        "template, hour, day; since (inclusive) and until (exclusive) in ISO 8601.",
    )


@strawberry.type
class Mutation:
    complete: CompletionResponse = strawberry.mutation(
        resolver=_complete, description="One completion, through the gateway's lifecycle."
    )


@strawberry.type
class Subscription:
    completion_stream: AsyncGenerator[CompletionResponse, None] = strawberry.subscription(
        resolver=_completion_stream,
        description="A streamed completion: items with the text as it arrives, then one with "
        "done true, the finish reason, usage and cost. Completing the operation or closing the "
        "socket cancels the upstream call.",
    )


class DoorSchema(strawberry.Schema):
    """Logs only what is a bug (Strawberry logs every error by default: a refused key or an
    upstream's 429 is not one)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context: Any = execution_context.context if execution_context is not None else None
        log_unexpected(errors, getattr(context, "request_id", ""))


def build_schema() -> DoorSchema:
    return DoorSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[TaxonomyErrors, limits, DocumentCache],
    )


__all__ = ["Mutation", "Query", "Subscription", "build_schema"]
