"""``GET /api/v1/openapi.json`` (OpenAPI 3.1) and ``GET /docs`` (a page that renders it).

The document is generated, never hand-written: the schemas are the JSON Schemas of the pydantic
models the handlers validate and answer with (:mod:`switchyard.doors.native.complete`), and
the paths are the app's own ``/api/v1`` routes. Routes without a wire model of their own (the
operations and admin routes, which render plain JSON) are listed with their path parameters,
their handler's docstring and a generic JSON answer. The document is built once per app.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from switchyard.comparison import ComparisonRequest
from switchyard.doors.http import JSON
from switchyard.doors.native.comparison import ComparisonResponse
from switchyard.doors.native.complete import (
    ChunkEvent,
    CompleteRequest,
    CompleteResponse,
    DoneEvent,
    ErrorBody,
    ModelList,
)
from switchyard.doors.native.sessions import NewMessage, NewSession

NATIVE_PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


@dataclass(frozen=True, slots=True)
class Operation:
    """What the document says of one typed route."""

    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    media_type: str = JSON
    description: str = ""
    upgrade: bool = False  # a WebSocket: answered with 101, messages described in words


STREAM_DESCRIPTION = (
    "Server-Sent Events: `event: chunk` (data: ChunkEvent) as the model writes, then "
    "`event: done` (data: DoneEvent); a failure after the first chunk ends the stream with "
    "`event: error` (data: ErrorBody). A failure before it is a JSON ErrorBody with its status."
)
SOCKET_DESCRIPTION = (
    "WebSocket (upgrade with GET). Send a CompleteRequest as a JSON text message; receive "
    '`{"type": "chunk", ...ChunkEvent}` messages, then `{"type": "done", ...DoneEvent}` or '
    '`{"type": "error", ...ErrorBody}`. `{"type": "cancel"}` cancels the request in progress; '
    "closing the socket cancels it too. Requests take turns on one socket. Credentials: the "
    'upgrade\'s headers, or a first message `{"type": "auth", "api_key": "..."}`.'
)

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/api/v1/complete", "post"): Operation(
        "A completion", CompleteRequest, CompleteResponse, JSON, "The whole answer at once."
    ),
    ("/api/v1/complete/stream", "post"): Operation(
        "A streamed completion",
        CompleteRequest,
        ChunkEvent,
        "text/event-stream",
        STREAM_DESCRIPTION,
    ),
    ("/api/v1/complete/ws", "get"): Operation(
        "A completion socket", description=SOCKET_DESCRIPTION, upgrade=True
    ),
    ("/api/v1/comparison", "post"): Operation(
        "An essay comparison",
        ComparisonRequest,
        ComparisonResponse,
        JSON,
        "Which of two essays answers user_prompt better, judged by comparison.model (or the "
        "overrides); 502 invalid_model_answer when the model never answers the comparison's "
        "JSON within comparison.max_retries.",
    ),
    ("/api/v1/models", "get"): Operation(
        "Models the caller may use",
        None,
        ModelList,
        JSON,
        "Aliases (with their deployments) and deployments, with their catalog facts.",
    ),
    ("/api/v1/sessions", "post"): Operation(
        "A conversation session",
        NewSession,
        None,
        JSON,
        "201 with the session: id, model, system, metadata, created_at. Its history is kept by "
        "the gateway; it belongs to the caller (tenant and user, or key) alone.",
    ),
    ("/api/v1/sessions/{id}/messages", "post"): Operation(
        "A message in a session, and the assistant's reply",
        NewMessage,
        CompleteResponse,
        JSON,
        "The reply in the /api/v1/complete shape; with `stream: true`, its Server-Sent Events "
        "as /api/v1/complete/stream sends them. Both turns are stored once the reply is whole.",
    ),
}
# models with no route of their own that the descriptions name
EXTRA_MODELS: tuple[type[BaseModel], ...] = (ChunkEvent, DoneEvent)
DOCS_PAGE = "docs.html"  # packaged beside this module: no external assets
ERROR_STATUSES = {"400": "Invalid request", "401": "Missing or invalid API key"}


def build_document(routes: Sequence[BaseRoute], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``/api/v1`` route in ``routes``."""
    schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = getattr(route, "path", "")
        if not path.startswith(NATIVE_PREFIX):
            continue
        template = _PARAM.sub(r"{\1}", path)
        if isinstance(route, WebSocketRoute):
            methods = ["get"]
        elif isinstance(route, Route):
            methods = sorted(m.lower() for m in route.methods or () if m != "HEAD")
        else:
            continue
        for method in methods:
            operation = OPERATIONS.get((template, method))
            item = _typed(operation) if operation is not None else _generic(route, template, method)
            params = _PARAM.findall(path)
            if params:
                item["parameters"] = [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in params
                ]
            paths.setdefault(template, {})[method] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchyard native API",
            "version": version,
            "description": "The native REST API of the Switchyard LLM gateway.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }


def _schemas() -> dict[str, Any]:
    answers: tuple[type[BaseModel], ...] = (
        CompleteResponse,
        ComparisonResponse,
        ModelList,
        ErrorBody,
        *EXTRA_MODELS,
    )
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (request, "validation")
        for request in (CompleteRequest, ComparisonRequest, NewSession, NewMessage)
    ]
    modes += [(model, "serialization") for model in answers]
    _, top = models_json_schema(modes, ref_template=REF)
    return dict(sorted(top.get("$defs", {}).items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _errors() -> dict[str, Any]:
    content = {JSON: {"schema": _ref(ErrorBody)}}
    return {
        **{
            status: {"description": text, "content": content}
            for status, text in ERROR_STATUSES.items()
        },
        "default": {"description": "Any other error (see the type and code)", "content": content},
    }


def _typed(operation: Operation) -> dict[str, Any]:
    item: dict[str, Any] = {"summary": operation.summary, "description": operation.description}
    if operation.request is not None:
        item["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _ref(operation.request)}},
        }
    if operation.upgrade:
        item["responses"] = {"101": {"description": "Switching to the WebSocket protocol"}}
        return item
    ok: dict[str, Any] = {"description": "OK"}
    if operation.response is not None:
        ok["content"] = {operation.media_type: {"schema": _ref(operation.response)}}
    item["responses"] = {"200": ok, **_errors()}
    return item


def _generic(route: BaseRoute, template: str, method: str) -> dict[str, Any]:
    endpoint = getattr(route, "endpoint", None)
    doc = (getattr(endpoint, "__doc__", None) or "").strip()
    summary = doc.splitlines()[0] if doc else f"{method.upper()} {template}"
    item: dict[str, Any] = {"summary": summary}
    if doc:
        item["description"] = doc
    if method in ("post", "put", "patch"):
        item["requestBody"] = {
            "required": False,
            "content": {JSON: {"schema": {"type": "object"}}},
        }
    item["responses"] = {
        "200": {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}},
        "default": {
            "description": 'An error: {"error": {"message", "type", "param", "code"}}',
            "content": {JSON: {"schema": {"type": "object"}}},
        },
    }
    return item


class OpenAPIDoor:
    """Serves the document (built on first request, from the app's routes) and the docs page."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._document: bytes | None = None
        self._page = resources.files(__package__).joinpath(DOCS_PAGE).read_text("utf-8")

    async def openapi(self, request: Request) -> Response:
        if self._document is None:
            self._document = orjson.dumps(build_document(request.app.routes, self.version))
        return Response(self._document, media_type=JSON)

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(self._page)


__all__ = ["NATIVE_PREFIX", "OPERATIONS", "OpenAPIDoor", "Operation", "build_document"]
