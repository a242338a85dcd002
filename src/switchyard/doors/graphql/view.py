"""``/graphql``: Strawberry's ASGI view, with the server's authentication and limits.

- HTTP (``POST``, or ``GET`` with ``?query=`` for queries): the app's guard has authenticated
  the request; the body is read here first, under ``server.max_body_bytes`` and
  ``server.body_timeout_seconds`` (413 / 408 with a GraphQL error body), then handed to
  Strawberry. ``GET`` from a browser (``Accept: text/html``, no query) is GraphiQL.
- WebSocket, both ``graphql-transport-ws`` and the legacy ``graphql-ws`` (Apollo's
  ``subscriptions-transport-ws``): the ``connection_init`` payload carries the key as
  ``{"Authorization": "Bearer <key>"}`` or ``{"x-api-key": "<key>"}`` (also ``api_key``,
  ``apiKey``); without one, the upgrade request's own headers count. It is authenticated once
  by the same :class:`~switchyard.doors.http.Authenticator` as HTTP. A bad key ends the
  connection as each protocol says: ``graphql-transport-ws`` closes with ``4403 Forbidden``;
  ``graphql-ws`` answers ``connection_error`` (with the error's ``extensions``) and closes.
  No ``connection_init`` within ``server.body_timeout_seconds`` closes with ``4408``; at most
  :data:`MAX_OPERATIONS_PER_SOCKET` operations run at once on one socket.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from switchyard.config.schema import ServerSettings
from switchyard.doors.drain import Drain
from switchyard.doors.graphql.context import DoorContext, HealthReport
from switchyard.doors.graphql.schema import build_schema
from switchyard.doors.graphql.wire import error_body, extensions
from switchyard.doors.http import (
    PRINCIPAL_KEY,
    REQUEST_ID_KEY,
    Authenticator,
    ClientDisconnected,
    read_body,
    request_id,
)
from switchyard.errors import SwitchyardError
from switchyard.gateway import Gateway

MAX_OPERATIONS_PER_SOCKET = 32
# where a connection_init payload may carry the key (what Apollo, urql and gql clients send)
_AUTHORIZATION = ("Authorization", "authorization")
_API_KEY = ("x-api-key", "X-Api-Key", "api_key", "apiKey")


class _View(GraphQL[DoorContext, None]):
    def __init__(
        self,
        gateway: Gateway,
        auth: Authenticator,
        health: HealthReport,
        drain: Drain,
        init_timeout: float,
    ) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=init_timeout),
            max_subscriptions_per_connection=MAX_OPERATIONS_PER_SOCKET,
        )
        self.gateway = gateway
        self.auth = auth
        self.health = health
        self.drain = drain

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its errors are json.JSONDecodeError, as Strawberry expects

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()  # str: WebSocket messages go out as text frames

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> DoorContext:
        rid = request.scope.get(REQUEST_ID_KEY) or request_id(request.headers.get("x-request-id"))
        if isinstance(response, Response):
            response.headers["x-request-id"] = rid
        return DoorContext(
            gateway=self.gateway,
            health=self.health,
            drain=self.drain,
            request=request,
            request_id=rid,
            principal=request.scope.get(PRINCIPAL_KEY),  # HTTP: the guard's; WebSocket: none yet
        )

    async def on_ws_connect(self, context: DoorContext) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization, api_key = _credential(params, _AUTHORIZATION), _credential(params, _API_KEY)
        if authorization is None and api_key is None:  # a client that sent them on the upgrade
            headers = context.request.headers
            authorization, api_key = headers.get("authorization"), headers.get("x-api-key")
        try:
            context.principal = await self.auth.authenticate(
                _raw(authorization), _raw(api_key), context.request_id
            )
        except SwitchyardError as refused:
            raise ConnectionRejectionError(
                {"message": refused.message, "extensions": extensions(refused)}
            ) from None
        unset: UnsetType = UNSET  # a connection_ack without a payload
        return unset


def _credential(params: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = params.get(name)
        if isinstance(value, str):
            return value
    return None


def _raw(value: str | None) -> bytes | None:
    return None if value is None else value.encode("utf-8", "replace")


class GraphQLDoor:
    """The ASGI app mounted at ``/graphql``."""

    def __init__(
        self,
        gateway: Gateway,
        settings: ServerSettings,
        auth: Authenticator,
        health: HealthReport,
        drain: Drain,
    ) -> None:
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds
        self.view = _View(gateway, auth, health, drain, settings.body_timeout_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            try:
                body = await read_body(
                    Request(scope, receive), self.max_body_bytes, self.body_timeout
                )
            except SwitchyardError as error:
                await _error_response(error, scope)(scope, receive, send)
                return
            except ClientDisconnected:
                return
            receive = _replay(body, receive)
        await self.view(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` with the body, already read, as its first message."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _error_response(error: SwitchyardError, scope: Scope) -> Response:
    headers = {"x-request-id": str(scope.get(REQUEST_ID_KEY, ""))}
    if error.status_code == 408:
        headers["connection"] = "close"
    return Response(
        orjson.dumps(error_body(error)),
        status_code=error.status_code,
        media_type="application/json",
        headers=headers,
    )


__all__ = ["MAX_OPERATIONS_PER_SOCKET", "GraphQLDoor"]
