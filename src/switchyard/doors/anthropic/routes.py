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

from switchyard.chat_stream import ChatStream
from switchyard.doors.anthropic.events import MessageEvents
from switchyard.doors.anthropic.reply import response_to_anthropic
from switchyard.doors.anthropic.request import request_from_anthropic
from switchyard.doors.chat import ChatDoor
from switchyard.doors.http import (
    RequestContext,
    json_error,
)
from switchyard.doors.sse import Framing
from switchyard.errors import SwitchyardError
from switchyard.formats.anthropic_errors import error_to_anthropic
from switchyard.types import ChatRequest, ChatResponse

COUNT_TOKENS = "/v1/messages/count_tokens"


class AnthropicDoor(ChatDoor):
    stream_name = "an Anthropic messages stream"

    def chat_request(self, body: dict[str, Any], request: Request) -> ChatRequest:
        return request_from_anthropic(
            body,
            count_only=request.url.path == COUNT_TOKENS,
            beta=request.headers.get("anthropic-beta"),
        )

    def render(self, chat: ChatRequest, response: ChatResponse, context: RequestContext) -> bytes:
        return orjson.dumps(response_to_anthropic(response))

    def framing(self, chat: ChatRequest, stream: ChatStream, context: RequestContext) -> Framing:
        return MessageEvents(chat.model)

    def error_response(self, error: SwitchyardError, context: RequestContext) -> Response:
        return error_response(error, context)

    async def messages(self, request: Request) -> Response:
        return await self.handle_chat(request)

    async def count_tokens(self, request: Request) -> Response:
        """``{"input_tokens": n}``: the count the router fits context windows with."""
        return await self.handle_count(request, lambda tokens: {"input_tokens": tokens})


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    status, body = error_to_anthropic(error)
    return json_error(error, body, context, status)


__all__ = ["AnthropicDoor", "error_response"]
