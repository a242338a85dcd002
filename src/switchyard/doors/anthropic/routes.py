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

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.config.schema import ServerSettings
from switchyard.doors.anthropic.events import MessageEvents
from switchyard.doors.anthropic.reply import response_to_anthropic
from switchyard.doors.anthropic.request import request_from_anthropic
from switchyard.doors.drain import Drain
from switchyard.doors.http import (
    ClientDisconnected,
    RequestContext,
    check_model_name,
    json_error,
    new_context,
    principal_of,
    read_json,
    unless_disconnected,
)
from switchyard.doors.sse import sse_response
from switchyard.errors import SwitchyardError
from switchyard.formats.anthropic_errors import error_to_anthropic
from switchyard.gateway import Gateway
from switchyard.types import ChatRequest, Principal

JSON = "application/json"


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
                events = MessageEvents(chat.model)
                where = "an Anthropic messages stream"
                return await sse_response(request, stream, events, context, self.drain, where)
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


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    status, body = error_to_anthropic(error)
    return json_error(error, body, context, status)


__all__ = ["AnthropicDoor", "error_response"]
