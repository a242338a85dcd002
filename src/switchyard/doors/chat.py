"""A chat route as every door runs it; the door supplies only its format.

    authenticate (the guard's Principal) -> read the body -> the door's translation into a
    canonical request (the tenant's default model when the body names none; the
    ``x-switchyard-prefer`` and ``Cache-Control: no-cache | no-store`` request headers)
    -> Gateway.chat or Gateway.stream (the one lifecycle) -> the door's rendering of the
    answer, or its SSE framing of the stream (:mod:`.sse`), or its error JSON

A request refused before it reaches the Gateway (a body that is not JSON, a field that fails
validation) is still one record, so one usage row, like any other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.chat_stream import ChatStream
from switchyard.config.schema import ServerSettings
from switchyard.doors.drain import Drain
from switchyard.doors.http import (
    ClientDisconnected,
    RequestContext,
    check_model_name,
    new_context,
    principal_of,
    read_json,
    unless_disconnected,
)
from switchyard.doors.sse import Framing, sse_response
from switchyard.errors import SwitchyardError
from switchyard.gateway import Gateway
from switchyard.types import CacheControl, ChatRequest, ChatResponse, Principal, ServedBy

JSON = "application/json"


class ChatDoor(ABC):
    """A door's chat route (:meth:`handle_chat`), around the door's own translation."""

    stream_name = "a chat stream"  # how a bug's log line names this door's streams
    # a door that completes bodies (:meth:`prepare`) or adds headers of its own
    # (:meth:`answer_headers`) says so: the others do not pay for the calls
    prepares = False
    own_headers = False

    def __init__(self, gateway: Gateway, settings: ServerSettings, drain: Drain) -> None:
        self.gateway = gateway
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds
        self.drain = drain

    @abstractmethod
    def chat_request(self, body: dict[str, Any], request: Request) -> ChatRequest:
        """The body (and the request's headers) in canonical terms; ``InvalidRequest`` names
        the field it cannot read."""

    @abstractmethod
    def render(self, chat: ChatRequest, response: ChatResponse, context: RequestContext) -> bytes:
        """A whole answer to ``chat`` as the door's JSON (``context.started``: when the
        request came)."""

    @abstractmethod
    def framing(self, chat: ChatRequest, stream: ChatStream, context: RequestContext) -> Framing:
        """How the door writes ``stream``'s chunks, its end and a failure after the first byte."""

    async def prepare(self, body: dict[str, Any], principal: Principal) -> None:  # noqa: B027
        """Complete the body before its translation (the Responses door puts the stored
        conversation a ``previous_response_id`` names in front of the input); nothing by
        default."""

    def answer_headers(self, chat: ChatRequest, served_by: ServedBy | None) -> dict[str, str]:
        """The door's own headers on an answer (plain or streamed), once it is known who
        answered; none by default."""
        return {}

    def streamed(self, body: dict[str, Any], request: Request) -> bool:
        """Whether the request asked for a stream (for the record of one refused before the
        Gateway): the body's ``"stream": true`` unless the door says otherwise."""
        return body.get("stream") is True

    @abstractmethod
    def error_response(self, error: SwitchyardError, context: RequestContext) -> Response:
        """An error in the door's format, with the status that format gives it."""

    async def read_chat(
        self, request: Request, principal: Principal, body: dict[str, Any]
    ) -> ChatRequest:
        """The request in canonical terms; ``body`` is filled with the JSON as it came."""
        body.update(await read_json(request, self.max_body_bytes, self.body_timeout))
        if self.prepares:
            await self.prepare(body, principal)
        if "model" not in body and principal.grant is not None:  # the tenant's default
            default = principal.grant.default_model
            if default is not None:
                body["model"] = default
        chat = self.chat_request(body, request)
        check_model_name(chat.model)
        if chat.prefer is None:
            chat.prefer = request.headers.get("x-switchyard-prefer")
        cache_control = request.headers.get("cache-control")
        if cache_control is not None:
            chat.cache = with_cache_control(chat.cache, cache_control)
        return chat

    async def handle_count(
        self, request: Request, answer: Callable[[int], dict[str, Any]]
    ) -> Response:
        """A count-tokens route: the body read as the door's chat request, counted as the
        router counts it to fit context windows (no model call, no usage row), answered as
        ``answer(tokens)``."""
        context = new_context(request)
        try:
            principal = principal_of(request)
            chat = await self.read_chat(request, principal, {})
            if chat.template is not None:  # count what would be sent: the rendered prompt
                chat = await self.gateway.templates.apply(chat)
            tokens = self.gateway.count_tokens(chat, principal)
        except SwitchyardError as error:
            return self.error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(orjson.dumps(answer(tokens)), media_type=JSON, headers=context.headers())

    async def handle_chat(self, request: Request) -> Response:
        context = new_context(request)
        principal: Principal | None = None
        body: dict[str, Any] = {}
        handed = False  # to the Gateway, which records the request from then on
        try:
            principal = context.principal = principal_of(request)
            chat = await self.read_chat(request, principal, body)
            handed = True
            if chat.stream:
                stream = self.gateway.stream(chat, principal=principal)
                framing = self.framing(chat, stream, context)
                return await sse_response(
                    request,
                    stream,
                    framing,
                    context,
                    self.drain,
                    self.stream_name,
                    (lambda served_by: self.answer_headers(chat, served_by))
                    if self.own_headers
                    else None,
                )
            response = await unless_disconnected(
                request, self.gateway.chat(chat, principal=principal)
            )
        except SwitchyardError as error:
            if not handed and principal is not None:  # refused here: still one usage row
                streamed = self.streamed(body, request)
                self.gateway.refused(
                    principal, "stream" if streamed else "chat", body.get("model"), error
                )
            return self.error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        headers = answer_headers(response, context)
        if self.own_headers:
            headers.update(self.answer_headers(chat, response.served_by))
        return Response(self.render(chat, response, context), media_type=JSON, headers=headers)


def answer_headers(response: ChatResponse, context: RequestContext) -> dict[str, str]:
    """A whole answer's headers: the request id, who answered, its cost and the cache's say."""
    headers = context.headers(response.served_by, response.cost)
    if response.cache_status is not None:
        headers["x-switchyard-cache"] = response.cache_status
    if response.cache_similarity is not None:
        headers["x-switchyard-cache-similarity"] = f"{response.cache_similarity:.4f}"
    return headers


def with_cache_control(control: CacheControl | None, header: str) -> CacheControl | None:
    """The request's ``Cache-Control`` directives ``no-cache`` and ``no-store`` (the others
    mean nothing to a response cache in front of a model), added to its cache controls."""
    directives = {part.strip().lower() for part in header.split(",")}
    no_cache, no_store = "no-cache" in directives, "no-store" in directives
    if not (no_cache or no_store):
        return control
    control = control.model_copy() if control is not None else CacheControl()
    control.no_cache = control.no_cache or no_cache
    control.no_store = control.no_store or no_store
    return control


__all__ = ["JSON", "ChatDoor", "answer_headers", "with_cache_control"]
