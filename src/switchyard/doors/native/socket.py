"""``/api/v1/complete/ws``: the native completion API over one WebSocket.

Protocol (JSON text messages)::

    client -> {"type": "auth", "api_key": "..."}     only without credentials on the upgrade
    client -> {<a /api/v1/complete body>}             ("type": "request" optional)
    server <- {"type": "chunk", "request_id", "text"?, "tool_calls"?}   as the model writes
    server <- {"type": "done", "request_id", "id", "model", "provider", "finish_reason",
               "usage", "cost", "latency_ms"}
           or {"type": "error", "request_id"?, "error": {"type", "code", "message", "param"?}}
    client -> {"type": "cancel"}                      ends the current request: its upstream
                                                      call is closed, an error with code
                                                      ``cancelled`` follows

Requests take turns on a socket: one at a time (another sent meanwhile is refused with
``code: request_in_progress``), as many as the client likes in sequence. Closing the socket
cancels the request in progress and its upstream call (recorded as ``cancelled``).

Authentication is the HTTP routes' (the guard does not see WebSocket scopes, so it happens
here, once per socket, through the same :class:`~switchyard.doors.http.Authenticator`): the
upgrade request's ``Authorization: Bearer`` or ``x-api-key`` header; a browser, which cannot
set headers on a WebSocket, sends ``{"type": "auth", "api_key": ...}`` first instead. A refused
key gets an error message, then the socket is closed with code 1008.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchyard.doors.drain import Drain
from switchyard.doors.errors import internal_error, shutting_down
from switchyard.doors.http import Authenticator, report_unexpected, request_id
from switchyard.doors.native.completions import CompletionDoor
from switchyard.doors.native.error_types import error_to_native
from switchyard.doors.native.stream_events import native_events
from switchyard.errors import (
    AuthenticationError,
    InvalidRequest,
    PayloadTooLarge,
    SwitchyardError,
)
from switchyard.gateway import Gateway
from switchyard.types import Principal
from switchyard.types.principal import new_request_id

POLICY_VIOLATION = 1008  # the close code for a refused key


class Cancelled(SwitchyardError):
    """The client's ``{"type": "cancel"}`` ended the request."""

    status_code = 499
    code = "cancelled"
    error_type = "invalid_request_error"


class RequestInProgress(InvalidRequest):
    """A request sent while the previous one on the socket is still running."""

    code = "request_in_progress"


class CompletionSocket:
    def __init__(
        self,
        gateway: Gateway,
        door: CompletionDoor,
        auth: Authenticator,
        drain: Drain,
    ) -> None:
        self.gateway = gateway
        self.door = door
        self.auth = auth
        self.drain = drain
        self.max_message_bytes = door.max_body_bytes
        self.auth_timeout = door.body_timeout

    async def handle(self, websocket: WebSocket) -> None:
        """One socket, start to end (the route's endpoint). An open socket counts against
        ``server.max_concurrent_requests`` in the guard, which refuses the handshake past it."""
        await websocket.accept()
        await self._session(websocket)

    async def _session(self, websocket: WebSocket) -> None:
        principal = await self._authenticate(websocket)
        if principal is None:
            return
        current: asyncio.Task[None] | None = None
        current_id = ""
        try:
            while True:
                data = await self._receive(websocket)
                if data is None:
                    return  # the client closed the socket (the finally cancels the request)
                kind = data.pop("type", "request")
                if kind == "cancel":
                    if current is not None and not current.done():
                        current.cancel()
                        await asyncio.wait([current])
                        await _send_error(
                            websocket, Cancelled("cancelled by the client"), current_id
                        )
                elif kind != "request":
                    await _send_error(
                        websocket,
                        InvalidRequest(
                            "type must be request (the default) or cancel", param="type"
                        ),
                    )
                elif current is not None and not current.done():
                    await _send_error(
                        websocket,
                        RequestInProgress(
                            "a request is in progress on this socket: wait for its done or "
                            "error, or cancel it"
                        ),
                    )
                else:
                    current_id = new_request_id()
                    caller = principal._replace(request_id=current_id)
                    current = asyncio.create_task(self._serve(websocket, caller, data))
        except WebSocketDisconnect:
            return
        finally:
            if current is not None and not current.done():
                current.cancel()  # closes the upstream stream; the record says cancelled
                await asyncio.wait([current])

    async def _authenticate(self, websocket: WebSocket) -> Principal | None:
        """The socket's caller, from the upgrade's headers or a first ``auth`` message; None
        (after an error message and closing the socket) when refused."""
        headers = websocket.headers
        rid = request_id(headers.get("x-request-id"))
        authorization, api_key = headers.get("authorization"), headers.get("x-api-key")
        try:
            if authorization is None and api_key is None and self.auth.enabled:
                async with asyncio.timeout(self.auth_timeout):
                    first = await self._receive(websocket)
                if first is None:
                    return None
                key = first.get("api_key") if first.get("type") == "auth" else None
                if not isinstance(key, str):
                    raise AuthenticationError(
                        "missing API key: send it on the upgrade request ('Authorization: "
                        "Bearer <key>' or 'x-api-key') or as the first message "
                        '{"type": "auth", "api_key": "<key>"}'
                    )
                api_key = key
            return await self.auth.authenticate(
                None if authorization is None else authorization.encode("latin-1"),
                None if api_key is None else api_key.encode("latin-1", "replace"),
                rid,
            )
        except SwitchyardError as refused:
            await _send_error(websocket, refused)
        except TimeoutError:
            await _send_error(websocket, AuthenticationError("no credentials arrived in time"))
        except WebSocketDisconnect:
            return None
        await websocket.close(POLICY_VIOLATION)
        return None

    async def _receive(self, websocket: WebSocket) -> dict[str, Any] | None:
        """The next JSON object from the client (None: it closed the socket); a message that
        is not one gets an error reply and is skipped."""
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return None
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            try:
                if len(raw) > self.max_message_bytes:
                    raise PayloadTooLarge(f"message is larger than {self.max_message_bytes} bytes")
                data = orjson.loads(raw)
                if not isinstance(data, dict):
                    raise InvalidRequest("a message must be a JSON object")
            except orjson.JSONDecodeError as exc:
                await _send_error(websocket, InvalidRequest(f"message is not valid JSON: {exc}"))
            except SwitchyardError as error:
                await _send_error(websocket, error)
            else:
                return data

    async def _serve(self, websocket: WebSocket, caller: Principal, body: dict[str, Any]) -> None:
        """One request on the socket (``caller`` carries its own request id): its chunks,
        then done or error."""
        rid = caller.request_id
        started = time.perf_counter()
        task = self.drain.enter()
        handed = False
        failure: SwitchyardError | None = None
        try:
            chat = self.door.native_chat(body, caller, stream=True)
            handed = True
            stream = self.gateway.stream(chat, principal=caller)
            try:
                async for name, event in native_events(stream, started):
                    await _send(websocket, {"type": name, "request_id": rid, **event})
            finally:
                await stream.aclose()
        except SwitchyardError as error:
            if not handed:  # refused here: still one usage row
                self.gateway.refused(caller, "stream", body.get("model"), error)
            failure = error
        except asyncio.CancelledError:
            if not self.drain.was_cut(task):
                raise  # the client cancelled or left
            failure = shutting_down()
        except (WebSocketDisconnect, OSError):  # the client left while we sent
            return
        except Exception as exc:
            report_unexpected(exc, rid, "a native completion socket")
            failure = internal_error(rid)
        finally:
            self.drain.leave(task)
        if failure is not None:
            await _send_error(websocket, failure, rid)


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    if websocket.application_state is WebSocketState.CONNECTED:
        await websocket.send_text(orjson.dumps(message).decode())


async def _send_error(websocket: WebSocket, error: SwitchyardError, rid: str | None = None) -> None:
    message: dict[str, Any] = {"type": "error"}
    if rid is not None:
        message["request_id"] = rid
    message.update(error_to_native(error))
    try:
        await _send(websocket, message)
    except (WebSocketDisconnect, RuntimeError, OSError):  # the client is gone: nobody to tell
        pass


__all__ = [
    "POLICY_VIOLATION",
    "Cancelled",
    "CompletionSocket",
    "RequestInProgress",
]
