"""The app's outermost layer: who may come in, how many at once, and the backstop for bugs.

- **Authentication**, once per request for every door: the credentials (``Authorization:
  Bearer <key>``, ``x-api-key`` or ``x-goog-api-key``; on the Gemini door's routes, also
  Google's ``?key=`` query parameter) become the request's
  :class:`~switchyard.types.Principal`, left in the ASGI scope for the handler to pass to the
  Gateway (see :func:`switchyard.doors.http.principal_of`); a request without valid ones gets
  401 here and reaches no door. ``/healthz``, ``/readyz``, ``/metrics`` and GraphiQL (a
  ``GET /graphql`` without a query) need none; the dashboard (``/ui`` and below) uses its
  own session cookie instead (:mod:`switchyard.doors.ui.door`); a GraphQL WebSocket
  authenticates its ``connection_init`` (see :mod:`switchyard.doors.graphql.view`). A
  virtual key (a tenant's caller) is refused with 403 ``admin_required`` on the admin routes
  (:data:`ADMIN_PATHS`): ``/api/v1/admin/*``, ``/api/v1/providers*``,
  ``/api/v1/circuit-breakers*``.
- **Client address**: the peer's, or what ``X-Forwarded-For`` says when the peer is one of
  ``server.trusted_proxies`` (:mod:`switchyard.server.client_address`), on the principal for
  the request's log line; it never decides authentication.
- **Admission**: at most ``server.max_concurrent_requests`` requests in flight (streams count
  until their last byte, a WebSocket while it is open); past it a request gets 503
  ``server_overloaded`` with ``Retry-After: 1`` at once (a WebSocket handshake: 403).
  ``/healthz``, ``/readyz`` and ``/metrics`` are always answered. One integer, no lock:
  everything runs on the event loop.
- **Backstop**: an exception no handler mapped (a bug; never a :class:`SwitchyardError`, which
  the doors render themselves) is logged with its traceback and request id on the
  ``switchyard.server`` logger, and the client gets the door's error JSON (500
  ``internal_error``) with its ``x-request-id``, never a plain-text 500 and a dropped
  keep-alive connection. A stream that has already started ends with an error event instead
  (its relay does that, see :mod:`switchyard.doors.sse`). Errors are in
  OpenAI's shape, except on the Anthropic door's routes (:data:`ANTHROPIC_PATHS`) and on
  ``/v1/models`` asked with ``anthropic-version`` (the ``anthropic`` SDK's ``models.list()``),
  which get Anthropic's error JSON and statuses, so that SDK raises its own exceptions, the
  Gemini door's routes (and ``/v1/models`` asked by a Google SDK), which get Google's, and
  under a path prefix given its own renderer (``renderers``: the native completion routes
  answer in the native shape, ``/graphql`` in GraphQL's).
- **Trace context**: with tracing on (``tracing``), the caller's W3C ``traceparent`` and
  ``tracestate`` headers, read in the same pass over the headers, ride on the Principal
  (:class:`~switchyard.types.TraceCarrier`) to the Gateway, whatever the door. Off, they are
  not even looked at.
- **Drain**: a request still waiting when the server cancels it after the drain deadline gets
  503 ``server_shutting_down`` (see :mod:`switchyard.doors.drain`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchyard.doors.drain import Drain
from switchyard.doors.errors import Overloaded, internal_error, shutting_down
from switchyard.doors.gemini.errors import PATHS as GEMINI
from switchyard.doors.gemini.errors import error_to_gemini, google_client
from switchyard.doors.graphql.wire import PATH as GRAPHQL_PATH
from switchyard.doors.http import (
    PRINCIPAL_KEY,
    REQUEST_ID_KEY,
    Authenticator,
    RequestContext,
    json_error,
    report_unexpected,
    request_id,
)
from switchyard.errors import AdminRequired, SwitchyardError
from switchyard.formats.anthropic_errors import error_to_anthropic
from switchyard.formats.openai_chat import error_to_openai
from switchyard.server.client_address import ClientAddress
from switchyard.types import TraceCarrier

# no credentials needed: health, metrics, and the native API's description (no secrets in it)
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/docs"})
# pages a browser opens without credentials, holding no data: GraphiQL (a GET of /graphql
# without a query; its queries carry the key, and the resolvers refuse any caller without one)
PAGE_PATHS = frozenset({GRAPHQL_PATH})
ErrorRenderer = Callable[[SwitchyardError], dict[str, Any]]
# the web dashboard: its door authenticates by its session cookie (and checks CSRF on every
# POST), never by these headers (see switchyard.doors.ui.door)
DASHBOARD_PREFIX = "/ui"
# routes only the admin (the master key, or anybody on a server without one) may call
ADMIN_PATHS = ("/api/v1/admin", "/api/v1/providers", "/api/v1/circuit-breakers")
ANTHROPIC_PATHS = ("/v1/messages",)  # answered in Anthropic's error JSON


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: Authenticator,
        max_concurrent: int,
        drain: Drain,
        renderers: Sequence[tuple[str, ErrorRenderer]] = (),
        clients: ClientAddress | None = None,
        tracing: bool = False,
    ) -> None:
        self.app = app
        self.renderers = tuple(renderers)  # (path prefix, error body) pairs; else OpenAI's
        self.tracing = tracing
        self.auth = auth
        self.clients = clients or ClientAddress(())
        self._proxied = bool(self.clients.trusted)
        self.max_concurrent = max_concurrent
        self.drain = drain
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_concurrent and scope["path"] not in EXEMPT_PATHS:
            refusal = Overloaded(
                f"the gateway has {self.max_concurrent} requests in flight, its limit; "
                "retry in a moment",
                retry_after=1.0,
            )
            await self._send_error(scope, receive, send, refusal, _request_id(scope))
            return
        if scope["path"] not in EXEMPT_PATHS and not _is_page(scope):
            incoming = authorization = api_key = traceparent = tracestate = None
            forwarded: list[bytes] = []
            proxied = self._proxied
            tracing = self.tracing
            for name, value in scope["headers"]:  # one pass over the headers, for all of them
                if name == b"authorization":
                    authorization = value
                elif name == b"x-api-key" or name == b"x-goog-api-key":  # google-genai's
                    api_key = value
                elif name == b"x-request-id":
                    incoming = value
                elif proxied and name == b"x-forwarded-for":
                    forwarded.append(value)
                elif tracing and name == b"traceparent":
                    traceparent = value
                elif tracing and name == b"tracestate":
                    tracestate = value
            if authorization is None and api_key is None and scope["path"].startswith(GEMINI):
                api_key = _query_key(scope)  # Google's ?key= (the Gemini door's clients)
            rid = scope[REQUEST_ID_KEY] = request_id(
                None if incoming is None else incoming.decode("latin-1")
            )
            try:
                principal = await self.auth.authenticate(authorization, api_key, rid)
                if not principal.admin and scope["path"].startswith(ADMIN_PATHS):
                    raise AdminRequired("this route needs the master key")
            except SwitchyardError as refused:
                await self._send_error(scope, receive, send, refused, rid)
                return
            peer = scope.get("client")
            client = self.clients.resolve(peer[0] if peer else None, forwarded)
            if client:
                principal = principal._replace(client=client)
            if tracing:
                principal = principal._replace(trace=_carrier(traceparent, tracestate))
            scope[PRINCIPAL_KEY] = principal
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        self.in_flight += 1
        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            rid = _request_id(scope)
            report_unexpected(exc, rid, f"{scope['method']} {scope['path']}")
            if not started:  # else the connection ends mid-answer: all that is left to do
                await self._send_error(scope, receive, send, internal_error(rid), rid)
        except asyncio.CancelledError:
            if started or not self.drain.over:
                raise
            task = asyncio.current_task()
            assert task is not None
            task.uncancel()
            await self._send_error(scope, receive, send, shutting_down(), _request_id(scope))
        finally:
            self.in_flight -= 1

    async def _send_error(
        self, scope: Scope, receive: Receive, send: Send, error: SwitchyardError, rid: str
    ) -> None:
        """The error as the path's door answers one (:func:`~switchyard.doors.http.json_error`)."""
        path: str = scope["path"]
        context = RequestContext(rid, 0.0)
        if path.startswith(ANTHROPIC_PATHS) or (
            path == "/v1/models"
            and any(name == b"anthropic-version" for name, _ in scope["headers"])
        ):  # Anthropic's statuses too (529 overloaded)
            status, anthropic = error_to_anthropic(error)
            await json_error(error, anthropic, context, status)(scope, receive, send)
            return
        if path.startswith(GEMINI) or (path == "/v1/models" and google_client(scope["headers"])):
            await json_error(error, error_to_gemini(error), context)(scope, receive, send)
            return
        render = next((r for prefix, r in self.renderers if path.startswith(prefix)), None)
        body = (render or error_to_openai)(error)
        await json_error(error, body, context)(scope, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket counts as one request in flight while it is open; past the limit its
        handshake is refused (403). Its door authenticates it (its first message)."""
        if self.in_flight >= self.max_concurrent:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1013})  # "try again later"
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


def _is_page(scope: Scope) -> bool:
    path: str = scope["path"]
    if path == DASHBOARD_PREFIX or path.startswith(DASHBOARD_PREFIX + "/"):
        return True
    if scope["method"] != "GET" or scope["path"] not in PAGE_PATHS:
        return False
    query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    return all(name != "query" for name, _ in query)


def _query_key(scope: Scope) -> bytes | None:
    """The ``key`` query parameter (Google's way to pass an API key), if any."""
    raw: bytes = scope["query_string"]
    if b"key=" not in raw:
        return None
    query = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    key = next((value for name, value in query if name == "key"), None)
    return key.encode("latin-1") if key else None


def _carrier(traceparent: bytes | None, tracestate: bytes | None) -> TraceCarrier:
    return TraceCarrier(
        None if traceparent is None else traceparent.decode("latin-1"),
        None if tracestate is None else tracestate.decode("latin-1"),
    )


def _request_id(scope: Scope) -> str:
    """The id the handler used, or (when it never got that far) the caller's or a new one."""
    known = scope.get(REQUEST_ID_KEY)
    if known is not None:
        return str(known)
    incoming = next(
        (value.decode("latin-1") for name, value in scope["headers"] if name == b"x-request-id"),
        None,
    )
    rid = request_id(incoming)
    scope[REQUEST_ID_KEY] = rid
    return rid


__all__ = [
    "ADMIN_PATHS",
    "ANTHROPIC_PATHS",
    "DASHBOARD_PREFIX",
    "EXEMPT_PATHS",
    "PAGE_PATHS",
    "ErrorRenderer",
    "Guard",
    "report_unexpected",
]
