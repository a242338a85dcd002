"""The native completion routes: ``POST /api/v1/complete``, ``POST /api/v1/complete/stream``
(Server-Sent Events) and ``GET /api/v1/models``.

Each handler translates (:mod:`switchyard.doors.native.complete`) and hands the request to the
Gateway with the caller's principal; errors are the native error JSON
(:mod:`switchyard.doors.native.error_types`) with the error's HTTP status. A stream that fails
before its first chunk is such a JSON error too (failover happens there, before any byte); once
it has started, a failure ends it with ``event: error``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from switchyard.chat_stream import ChatStream
from switchyard.config.schema import ServerSettings
from switchyard.doors.drain import Drain
from switchyard.doors.errors import internal_error, shutting_down
from switchyard.doors.http import (
    JSON,
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
from switchyard.doors.native.complete import parse_request, response_to_native, to_chat_request
from switchyard.doors.native.error_types import error_to_native
from switchyard.doors.native.facts import FactsRenderer, catalog_to_native
from switchyard.doors.native.stream_events import native_events
from switchyard.errors import InvalidRequest, SwitchyardError
from switchyard.gateway import Gateway
from switchyard.types import ChatRequest, Principal

_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class CompletionDoor:
    """The native completion API over HTTP (the WebSocket shares :meth:`chat_request`)."""

    def __init__(self, gateway: Gateway, settings: ServerSettings, drain: Drain) -> None:
        self.gateway = gateway
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds
        self.drain = drain
        self.facts = FactsRenderer()

    def chat_request(
        self, body: dict[str, Any], principal: Principal, *, stream: bool
    ) -> ChatRequest:
        """The canonical request for a native body: 400 naming the field at fault."""
        request = parse_request(body)
        model = request.model or self.gateway.default_model(principal)
        if model is None:
            raise InvalidRequest(
                "model is required: this server has no server.default_model", param="model"
            )
        check_model_name(model)
        return to_chat_request(request, model, stream=stream)

    async def complete(self, request: Request) -> Response:
        context = new_context(request)
        principal: Principal | None = None
        body: dict[str, Any] = {}
        handed = False  # to the Gateway, which records the request from then on
        try:
            principal = principal_of(request)
            body = await read_json(request, self.max_body_bytes, self.body_timeout)
            chat = self.chat_request(body, principal, stream=False)
            handed = True
            response = await unless_disconnected(
                request, self.gateway.chat(chat, principal=principal)
            )
        except SwitchyardError as error:
            if not handed and principal is not None:  # refused here: still one usage row
                self.gateway.refused(principal, "chat", body.get("model"), error)
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        served = response.served_by
        assert served is not None
        facts = self.facts.render(self.gateway.deployment_facts(served.provider, served.model))
        latency_ms = (time.perf_counter() - context.started) * 1000.0
        headers = context.headers(served, response.cost)
        if response.cache_status is not None:
            headers["x-switchyard-cache"] = response.cache_status
        return Response(
            orjson.dumps(response_to_native(response, facts, latency_ms)),
            media_type=JSON,
            headers=headers,
        )

    async def stream(self, request: Request) -> Response:
        context = new_context(request)
        principal: Principal | None = None
        body: dict[str, Any] = {}
        handed = False
        try:
            principal = principal_of(request)
            body = await read_json(request, self.max_body_bytes, self.body_timeout)
            chat = self.chat_request(body, principal, stream=True)
            handed = True
            stream = self.gateway.stream(chat, principal=principal)
            try:  # failover happens here, before any byte is sent
                await unless_disconnected(request, stream.start())
            except BaseException:
                await stream.aclose()
                raise
        except SwitchyardError as error:
            if not handed and principal is not None:
                self.gateway.refused(principal, "stream", body.get("model"), error)
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        headers = {**_SSE_HEADERS, **context.headers(stream.served_by)}
        if stream.cache_status is not None:
            headers["x-switchyard-cache"] = stream.cache_status
        return StreamingResponse(
            _sse(stream, context, self.drain), media_type="text/event-stream", headers=headers
        )

    async def models(self, request: Request) -> Response:
        """Aliases and deployments the caller may use, with their catalog facts."""
        context = new_context(request)
        try:
            aliases, deployments = self.gateway.model_catalog(principal_of(request))
        except SwitchyardError as error:
            return error_response(error, context)
        return Response(
            orjson.dumps(catalog_to_native(aliases, deployments)),
            media_type=JSON,
            headers=context.headers(),
        )


async def _sse(stream: ChatStream, context: RequestContext, drain: Drain) -> AsyncIterator[bytes]:
    """``event: chunk`` per chunk, then ``event: done``; ``event: error`` (then the end) when
    the upstream breaks, the drain deadline cuts the stream, or a bug surfaces (logged)."""
    task = drain.enter()
    failure: SwitchyardError | None = None
    try:
        async for name, body in native_events(stream, context.started):
            yield b"event: " + name.encode() + b"\ndata: " + orjson.dumps(body) + b"\n\n"
    except SwitchyardError as error:
        failure = error
    except asyncio.CancelledError:
        if not drain.was_cut(task):
            raise
        failure = shutting_down()
    except Exception as exc:
        report_unexpected(exc, context.request_id, "a native completion stream")
        failure = internal_error(context.request_id)
    finally:
        drain.leave(task)
        await stream.aclose()
    if failure is not None:
        yield b"event: error\ndata: " + orjson.dumps(error_to_native(failure)) + b"\n\n"


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_native(error), context)


__all__ = ["CompletionDoor", "error_response"]
