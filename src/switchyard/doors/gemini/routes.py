"""The Gemini-compatible front door, for ``google-genai`` and gemini-cli:

    POST /v1beta/models/{model}:generateContent
    POST /v1beta/models/{model}:streamGenerateContent   (?alt=sse: SSE; else a JSON array)
    POST /v1beta/models/{model}:countTokens
    POST /v1beta/models/{model}:embedContent
    POST /v1beta/models/{model}:batchEmbedContents
    GET  /v1beta/models   and   GET /v1beta/models/{model}

and the same under ``/v1`` (the version ``google-genai`` now defaults to), where
``GET /v1/models`` is Google's list only to a Google SDK (see
:func:`~switchyard.doors.gemini.errors.google_client`), else the OpenAI door's.
``{model}`` is the alias (or ``provider/model``: the ``/`` may come URL-encoded or not; a
``models/`` prefix is taken off once). The key comes as ``x-goog-api-key``, ``?key=`` or
``Authorization: Bearer`` (the guard reads them). A translator plus routes, like the
Anthropic door: the body becomes a canonical request (:mod:`.request`), the Gateway takes it
through the one lifecycle, the answer goes back as a ``GenerateContentResponse``
(:mod:`.reply`) or its stream (:mod:`.events`); errors are Google's error JSON
(:mod:`.errors`).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.chat_stream import ChatStream
from switchyard.config.schema import ServerSettings
from switchyard.doors.chat import JSON, ChatDoor
from switchyard.doors.drain import Drain
from switchyard.doors.gemini.errors import error_to_gemini
from switchyard.doors.gemini.events import GenerateEvents
from switchyard.doors.gemini.reply import model_to_gemini, response_to_gemini
from switchyard.doors.gemini.request import (
    count_request_from_gemini,
    embedding_request_from_gemini,
    request_from_gemini,
)
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
from switchyard.doors.sse import Framing
from switchyard.errors import InvalidRequest, NotFound, SwitchyardError
from switchyard.gateway import Gateway
from switchyard.types import ChatRequest, ChatResponse, EmbeddingResponse, Principal

STREAM = "streamGenerateContent"
_EMBED_METHODS = frozenset({"embedContent", "batchEmbedContents"})
_METHODS = frozenset({"generateContent", STREAM, "countTokens"}) | _EMBED_METHODS


def target(request: Request) -> tuple[str, str]:
    """``(model, method)`` of ``/v1beta/models/{model}:{method}``; 404 without a method."""
    name, colon, method = str(request.path_params.get("target", "")).rpartition(":")
    if not colon or method not in _METHODS:
        raise NotFound(f"no method {method!r} on models: POST {request.url.path}")
    return name.removeprefix("models/"), method


class GeminiDoor(ChatDoor):
    stream_name = "a Gemini streamGenerateContent stream"

    def __init__(
        self, gateway: Gateway, settings: ServerSettings, drain: Drain, *, sse: bool = True
    ) -> None:
        super().__init__(gateway, settings, drain)
        self.sse = sse
        # streamGenerateContent without alt=sse: the same door, framing a JSON array
        self._array = self if not sse else GeminiDoor(gateway, settings, drain, sse=False)

    def chat_request(self, body: dict[str, Any], request: Request) -> ChatRequest:
        model, method = target(request)
        # the path's model, not the tenant's default: also for the record of a refusal
        body["model"] = model
        if method == "countTokens":
            return count_request_from_gemini(body, model)
        return request_from_gemini(body, model, stream=method == STREAM)

    def streamed(self, body: dict[str, Any], request: Request) -> bool:
        return request.url.path.endswith(":" + STREAM)

    def render(self, chat: ChatRequest, response: ChatResponse, context: RequestContext) -> bytes:
        return orjson.dumps(response_to_gemini(response))

    def framing(self, chat: ChatRequest, stream: ChatStream, context: RequestContext) -> Framing:
        return GenerateEvents(chat.model, sse=self.sse)

    def error_response(self, error: SwitchyardError, context: RequestContext) -> Response:
        return error_response(error, context)

    async def post(self, request: Request) -> Response:
        """Every ``POST /v1beta/models/{model}:{method}``, by its method."""
        try:
            model, method = target(request)
        except SwitchyardError as error:
            return error_response(error, new_context(request))
        if method == "countTokens":
            return await self.count_tokens(request)
        if method in _EMBED_METHODS:
            return await self.embed(request, model, batch=method == "batchEmbedContents")
        if method == STREAM and request.query_params.get("alt") != "sse":
            response = await self._array.handle_chat(request)
            if response.media_type == "text/event-stream":
                response.headers["content-type"] = "application/json; charset=UTF-8"
            return response
        return await self.handle_chat(request)

    async def count_tokens(self, request: Request) -> Response:
        """``{"totalTokens": n}``: the count the router fits context windows with."""
        return await self.handle_count(request, lambda tokens: {"totalTokens": tokens})

    async def embed(self, request: Request, model: str, *, batch: bool) -> Response:
        context = new_context(request)
        principal: Principal | None = None
        handed = False
        try:
            principal = principal_of(request)
            body = await read_json(request, self.max_body_bytes, self.body_timeout)
            check_model_name(model)
            if batch:
                items = body.get("requests")
                if not isinstance(items, list):
                    raise InvalidRequest("requests: a list is required", param="requests")
                embedding = embedding_request_from_gemini(items, model, "requests")
            else:
                embedding = embedding_request_from_gemini([body], model, "")
            handed = True
            response = await unless_disconnected(
                request, self.gateway.embed(embedding, principal=principal)
            )
        except SwitchyardError as error:
            if not handed and principal is not None:  # refused here: still one usage row
                self.gateway.refused(principal, "embed", model, error)
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps(_embeddings(response, batch)),
            media_type=JSON,
            headers=context.headers(response.served_by, response.cost),
        )

    async def models(self, request: Request) -> Response:
        """``{"models": [...]}``: every model the caller may use, in one page."""
        context = new_context(request)
        try:
            listing = self.gateway.models(principal_of(request))
        except SwitchyardError as error:
            return error_response(error, context)
        body = {"models": [model_to_gemini(m) for m in listing]}
        return Response(orjson.dumps(body), media_type=JSON, headers=context.headers())

    async def model(self, request: Request) -> Response:
        """One model the caller may use, or 404."""
        context = new_context(request)
        name = str(request.path_params["name"]).removeprefix("models/")
        try:
            listing = self.gateway.models(principal_of(request))
            found = next((m for m in listing if m.id == name), None)
            if found is None:
                raise NotFound(f"models/{name} is not found")
        except SwitchyardError as error:
            return error_response(error, context)
        return Response(
            orjson.dumps(model_to_gemini(found)), media_type=JSON, headers=context.headers()
        )


def _embeddings(response: EmbeddingResponse, batch: bool) -> dict[str, Any]:
    if batch:
        return {"embeddings": [{"values": vector} for vector in response.data]}
    return {"embedding": {"values": response.data[0]}}


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_gemini(error), context)


__all__ = ["GeminiDoor", "error_response", "target"]
