"""Conversations over the native REST API: sessions whose history the gateway keeps.

    POST   /api/v1/sessions                 {"model", "system"?, "metadata"?} -> 201 a session
    GET    /api/v1/sessions                 the caller's sessions, newest first
                                            (``?limit=`` and ``?after=<last id of a page>``)
    GET    /api/v1/sessions/{id}            a session with its messages (usage and cost on
                                            the assistant's)
    DELETE /api/v1/sessions/{id}            the session and its messages
    POST   /api/v1/sessions/{id}/messages   {"content", "stream"?}: the assistant's reply in
                                            the native completion shape (``/api/v1/complete``'s
                                            JSON, or its SSE events when streamed)

A session is its creator's (tenant and user, or key): anybody else gets 404, as for one that
does not exist. What the feature does is :mod:`switchyard.conversations`'; this module reads
bodies and query strings, and renders sessions, replies and errors (the native error JSON).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from switchyard.config.schema import ServerSettings
from switchyard.conversations import Conversations, Page, Session, Turn
from switchyard.doors.chat import answer_headers
from switchyard.doors.drain import Drain
from switchyard.doors.http import (
    JSON,
    ClientDisconnected,
    RequestContext,
    check_model_name,
    new_context,
    principal_of,
    read_json,
    unless_disconnected,
)
from switchyard.doors.native.complete import cost_to_native, usage_to_native
from switchyard.doors.native.completions import CompletionDoor, error_response
from switchyard.doors.native.stream_events import NativeEvents, NativeFrames
from switchyard.doors.sse import sse_response
from switchyard.errors import InvalidRequest, SwitchyardError
from switchyard.gateway import Gateway
from switchyard.types import Principal

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[[Request, Principal, RequestContext], Awaitable[Response]]


class NewSession(BaseModel):
    """``POST /api/v1/sessions``: ``model`` defaults as ``/api/v1/complete``'s does."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, min_length=1, max_length=256)
    system: str | None = Field(default=None, description="the system prompt, always sent")
    metadata: dict[str, str] | None = None


class NewMessage(BaseModel):
    """``POST /api/v1/sessions/{id}/messages``."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1)
    stream: bool = False


class SessionDoor:
    def __init__(
        self, gateway: Gateway, settings: ServerSettings, completions: CompletionDoor, drain: Drain
    ) -> None:
        self.gateway = gateway
        self.completions = completions  # the completion shape of a reply, and its facts
        self.drain = drain
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds

    @property
    def sessions(self) -> Conversations:
        return self.gateway.sessions

    async def create(self, request: Request) -> Response:
        """A new session: ``{"model", "system"?, "metadata"?}`` -> 201 the session."""

        async def handle(request: Request, caller: Principal, context: RequestContext) -> Response:
            body = _parse(NewSession, await self._body(request))
            model = body.model or self.gateway.default_model(caller)
            if model is None:
                raise InvalidRequest(
                    "model is required: this server has no server.default_model", param="model"
                )
            check_model_name(model)
            session = await self.sessions.create(caller, model, body.system, body.metadata)
            return _json(session_to_native(session), context, 201)

        return await self._answer(request, handle)

    async def index(self, request: Request) -> Response:
        """The caller's sessions, newest first: ``?limit=`` and ``?after=<last_id>``."""

        async def handle(request: Request, caller: Principal, context: RequestContext) -> Response:
            params = request.query_params
            limit = _limit(params.get("limit"))
            page = await self.sessions.page(caller, limit, params.get("after") or None)
            return _json(page_to_native(page), context)

        return await self._answer(request, handle)

    async def get(self, request: Request) -> Response:
        """A session of the caller's, with its messages (usage and cost on the answers)."""

        async def handle(request: Request, caller: Principal, context: RequestContext) -> Response:
            session, turns = await self.sessions.get(caller, request.path_params["id"])
            body = session_to_native(session)
            body["messages"] = [turn_to_native(turn) for turn in turns]
            return _json(body, context)

        return await self._answer(request, handle)

    async def delete(self, request: Request) -> Response:
        """Delete a session of the caller's and its messages."""

        async def handle(request: Request, caller: Principal, context: RequestContext) -> Response:
            session_id = request.path_params["id"]
            await self.sessions.delete(caller, session_id)
            return _json({"id": session_id, "object": "session", "deleted": True}, context)

        return await self._answer(request, handle)

    async def message(self, request: Request) -> Response:
        """A message in a session: the assistant's reply (SSE with ``stream: true``)."""

        async def handle(request: Request, caller: Principal, context: RequestContext) -> Response:
            body = _parse(NewMessage, await self._body(request))
            session_id = request.path_params["id"]
            if body.stream:
                stream = await unless_disconnected(
                    request, self.sessions.stream_reply(caller, session_id, body.content)
                )
                framing = NativeFrames(NativeEvents(stream, context.started))
                where = "a session's streamed reply"
                return await sse_response(request, stream, framing, context, self.drain, where)
            response = await unless_disconnected(
                request, self.sessions.reply(caller, session_id, body.content)
            )
            return Response(
                self.completions.answer_body(response, context),
                media_type=JSON,
                headers=answer_headers(response, context),
            )

        return await self._answer(request, handle)

    async def _answer(self, request: Request, handle: Handler) -> Response:
        context = new_context(request)
        try:
            return await handle(request, principal_of(request), context)
        except SwitchyardError as error:
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())

    async def _body(self, request: Request) -> dict[str, Any]:
        return await read_json(request, self.max_body_bytes, self.body_timeout)


# -- rendering: the conversation's records -> the native JSON -------------------------------


def session_to_native(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "object": "session",
        "model": session.model,
        "system": session.system,
        "metadata": session.metadata,
        "created_at": _iso(session.created_at),
        "updated_at": _iso(session.updated_at),
        "summary": session.summary,
    }


def turn_to_native(turn: Turn) -> dict[str, Any]:
    """A message; an assistant's carries who answered, its usage and cost (null: unpriced)."""
    body: dict[str, Any] = {
        "id": turn.id,
        "role": turn.role,
        "content": turn.content,
        "created_at": _iso(turn.created_at),
        "request_id": turn.request_id,
    }
    if turn.role == "assistant":
        body["provider"] = turn.provider
        body["model"] = turn.model
        body["usage"] = None if turn.usage is None else usage_to_native(turn.usage)
        body["cost"] = cost_to_native(turn.cost)
    return body


def page_to_native(page: Page) -> dict[str, Any]:
    data = [session_to_native(session) for session in page.sessions]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": page.has_more,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _json(body: dict[str, Any], context: RequestContext, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type=JSON, headers=context.headers()
    )


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise InvalidRequest("limit must be a whole number", param="limit")
    return int(text[:9])


def _parse(model: type[ModelT], body: dict[str, Any]) -> ModelT:
    """``body`` as ``model``, or 400 naming the first field at fault."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        param = ".".join(str(part) for part in error["loc"]) or "body"
        message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        raise InvalidRequest(f"{param}: {message}", param=param) from None


__all__ = [
    "NewMessage",
    "NewSession",
    "SessionDoor",
    "page_to_native",
    "session_to_native",
    "turn_to_native",
]
