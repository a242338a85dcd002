"""The Anthropic-compatible front door: ``POST /v1/messages`` and
``POST /v1/messages/count_tokens``, for the official ``anthropic`` SDK.

A translator plus routes, like the OpenAI door: the body becomes a canonical request
(:mod:`.request`), the Gateway takes it through the one lifecycle (authorize, limits, cache,
routing, attempts, accounting), and the answer goes back as Anthropic's ``Message`` object
(:mod:`.reply`) or its streamed events (:mod:`.events`). Errors are Anthropic's error JSON
with its statuses (:func:`~switchyard.formats.anthropic_errors.error_to_anthropic`); a stream
that fails after its first byte ends with an ``error`` event. ``GET /v1/models`` is the OpenAI
door's, which answers in Anthropic's shape when the request carries ``anthropic-version``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from switchyard.chat_stream import ChatStream
from switchyard.config.schema import ServerSettings
from switchyard.doors.anthropic.events import MessageEvents, error_event
from switchyard.doors.anthropic.reply import response_to_anthropic
from switchyard.doors.anthropic.request import request_from_anthropic
from switchyard.doors.drain import Drain
from switchyard.doors.errors import internal_error, shutting_down
from switchyard.doors.http import (
    ClientDisconnected,
    RequestContext,
    check_model_name,
    json_error,
    new_context,
    principal_of,
    read_json,
    report_unexpected,
    unless_disconnected,
)
from switchyard.errors import SwitchyardError
from switchyard.formats.anthropic_errors import error_to_anthropic
from switchyard.gateway import Gateway
from switchyard.types import ChatRequest, Principal

JSON = "application/json"
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class AnthropicDoor:
    def __init__(self, gateway: Gateway, settings: ServerSettings, drain: Drain) -> None:
        self.gateway = gateway
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds
        self.drain = drain

    async def messages(self, request: Request) -> Response:
        context = new_context(request)
        principal: Principal | None = None
        body: dict[str, Any] = {}
        handed = False  # to the Gateway, which records the request from then on
        try:
            principal = principal_of(request)
            chat = await self._read(request, principal, body, count_only=False)
            if chat.prefer is None:
                chat.prefer = request.headers.get("x-switchyard-prefer")
            handed = True
            if chat.stream:
                stream = self.gateway.stream(chat, principal=principal)
                return await self._stream(request, chat, stream, context)
            response = await unless_disconnected(
                request, self.gateway.chat(chat, principal=principal)
            )
        except SwitchyardError as error:
            if not handed and principal is not None:  # refused here: still one usage row
                streamed = body.get("stream") is True
                self.gateway.refused(
                    principal, "stream" if streamed else "chat", body.get("model"), error
                )
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        headers = context.headers(response.served_by, response.cost)
        if response.cache_status is not None:
            headers["x-switchyard-cache"] = response.cache_status
        return Response(
            orjson.dumps(response_to_anthropic(response)), media_type=JSON, headers=headers
        )

    async def count_tokens(self, request: Request) -> Response:
        """``{"input_tokens": n}``: the count the router fits context windows with."""
        context = new_context(request)
        try:
            principal = principal_of(request)
            chat = await self._read(request, principal, {}, count_only=True)
            tokens = self.gateway.count_tokens(chat, principal)
        except SwitchyardError as error:
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps({"input_tokens": tokens}), media_type=JSON, headers=context.headers()
        )

    async def _read(
        self, request: Request, principal: Principal, body: dict[str, Any], *, count_only: bool
    ) -> ChatRequest:
        """The request's canonical form; ``body`` is filled with the JSON as it came."""
        body.update(await read_json(request, self.max_body_bytes, self.body_timeout))
        if "model" not in body and principal.grant is not None:  # the tenant's default
            default = principal.grant.default_model
            if default is not None:
                body["model"] = default
        beta = request.headers.get("anthropic-beta")
        chat = request_from_anthropic(body, count_only=count_only, beta=beta)
        check_model_name(chat.model)
        return chat

    async def _stream(
        self, request: Request, chat: ChatRequest, stream: ChatStream, context: RequestContext
    ) -> Response:
        try:  # failover happens here, before any byte is sent; a client that leaves stops it
            await unless_disconnected(request, stream.start())
        except BaseException:
            await stream.aclose()
            raise
        headers = {**_SSE_HEADERS, **context.headers(stream.served_by)}
        if stream.cache_status is not None:
            headers["x-switchyard-cache"] = stream.cache_status
        return StreamingResponse(
            _sse(stream, MessageEvents(chat.model), context, self.drain),
            media_type="text/event-stream",
            headers=headers,
        )


async def _sse(
    stream: ChatStream, events: MessageEvents, context: RequestContext, drain: Drain
) -> AsyncIterator[bytes]:
    """Anthropic's events, one write per chunk; an ``error`` event (then the end of the
    stream) when the upstream breaks after the first byte, when the drain deadline cuts the
    stream, or when a bug surfaces (logged, as ``api_error``)."""
    task = drain.enter()
    failure: SwitchyardError | None = None
    try:
        async for chunk in stream:
            data = events.feed(chunk)
            if data:
                yield data
    except SwitchyardError as error:
        failure = error
    except asyncio.CancelledError:
        if not drain.was_cut(task):
            raise
        failure = shutting_down()
    except Exception as exc:
        report_unexpected(exc, context.request_id, "an Anthropic messages stream")
        failure = internal_error(context.request_id)
    finally:
        drain.leave(task)
        await stream.aclose()
    yield events.finish() if failure is None else error_event(failure)


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    status, body = error_to_anthropic(error)
    return json_error(error, body, context, status)


__all__ = ["AnthropicDoor", "error_response"]
