"""The native completion routes: ``POST /api/v1/complete``, ``POST /api/v1/complete/stream``
(Server-Sent Events) and ``GET /api/v1/models``.

The completion routes are every door's chat route (:class:`~switchyard.doors.chat.ChatDoor`)
around the native translation (:mod:`switchyard.doors.native.complete`); errors are the native
error JSON (:mod:`switchyard.doors.native.error_types`) with the error's HTTP status. A stream
that fails before its first chunk is such a JSON error too (failover happens there, before any
byte); once it has started, a failure ends it with ``event: error``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.chat_stream import ChatStream
from switchyard.config.schema import ServerSettings
from switchyard.doors.chat import JSON, ChatDoor
from switchyard.doors.drain import Drain
from switchyard.doors.http import (
    RequestContext,
    check_model_name,
    json_error,
    new_context,
    principal_of,
)
from switchyard.doors.native.complete import parse_request, response_to_native, to_chat_request
from switchyard.doors.native.error_types import error_to_native
from switchyard.doors.native.facts import FactsRenderer, catalog_to_native
from switchyard.doors.native.stream_events import NativeEvents, NativeFrames
from switchyard.doors.sse import Framing
from switchyard.errors import InvalidRequest, SwitchyardError
from switchyard.gateway import Gateway
from switchyard.types import ChatRequest, ChatResponse, Principal

STREAM_PATH = "/api/v1/complete/stream"


class CompletionDoor(ChatDoor):
    """The native completion API over HTTP (the WebSocket shares :meth:`native_chat`)."""

    stream_name = "a native completion stream"

    def __init__(self, gateway: Gateway, settings: ServerSettings, drain: Drain) -> None:
        super().__init__(gateway, settings, drain)
        self.facts = FactsRenderer()

    def native_chat(
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

    def streamed(self, body: dict[str, Any], request: Request) -> bool:
        return bool(request.scope["path"] == STREAM_PATH)  # the route says, not the body

    def chat_request(self, body: dict[str, Any], request: Request) -> ChatRequest:
        return self.native_chat(body, principal_of(request), stream=self.streamed(body, request))

    def render(self, chat: ChatRequest, response: ChatResponse, context: RequestContext) -> bytes:
        return self.answer_body(response, context)

    def answer_body(self, response: ChatResponse, context: RequestContext) -> bytes:
        """A whole answer in the native shape (also a session's reply's)."""
        served = response.served_by
        assert served is not None
        facts = self.facts.render(self.gateway.deployment_facts(served.provider, served.model))
        latency_ms = (time.perf_counter() - context.started) * 1000.0
        return orjson.dumps(response_to_native(response, facts, latency_ms))

    def framing(self, chat: ChatRequest, stream: ChatStream, context: RequestContext) -> Framing:
        return NativeFrames(NativeEvents(stream, context.started))

    def error_response(self, error: SwitchyardError, context: RequestContext) -> Response:
        return error_response(error, context)

    async def complete(self, request: Request) -> Response:
        return await self.handle_chat(request)

    async def stream(self, request: Request) -> Response:
        return await self.handle_chat(request)

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


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_native(error), context)


__all__ = ["STREAM_PATH", "CompletionDoor", "error_response"]
