"""What every HTTP handler shares: the body limit, auth, request ids, timing headers."""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from starlette.requests import Request

from switchyard.errors import AuthenticationError, InvalidRequest, PayloadTooLarge
from switchyard.types import ServedBy

T = TypeVar("T")


class ClientDisconnected(Exception):
    """The caller went away before the answer was ready; the work was cancelled."""


@dataclass(slots=True)
class RequestContext:
    """Per-request facts the handlers need: its id and when it arrived."""

    request_id: str
    started: float

    def headers(self, served_by: ServedBy | None = None) -> dict[str, str]:
        headers = {"x-request-id": self.request_id}
        if served_by is not None:
            elapsed_ms = (time.perf_counter() - self.started) * 1000.0
            headers["x-switchyard-provider"] = served_by.provider
            headers["x-switchyard-model"] = served_by.model
            headers["x-switchyard-attempts"] = str(served_by.attempts)
            if served_by.hedged:
                headers["x-switchyard-hedged"] = "true"
            headers["x-switchyard-overhead-ms"] = (
                f"{max(elapsed_ms - served_by.upstream_ms, 0):.3f}"
            )
        return headers


def new_context(request: Request) -> RequestContext:
    incoming = request.headers.get("x-request-id")
    if incoming and len(incoming) <= 128 and incoming.isprintable():
        request_id = incoming
    else:
        request_id = uuid.uuid4().hex
    return RequestContext(request_id, time.perf_counter())


class Authenticator:
    """Checks ``Authorization: Bearer <master_key>`` (or ``x-api-key``) when a key is set."""

    def __init__(self, master_key: str | None) -> None:
        self._key = master_key.encode() if master_key else None

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def check(self, headers: Mapping[str, str]) -> None:
        if self._key is None:
            return
        presented = headers.get("authorization", "")
        token = presented[7:] if presented[:7].lower() == "bearer " else headers.get("x-api-key")
        if not token or not hmac.compare_digest(token.strip().encode(), self._key):
            raise AuthenticationError(
                "missing or invalid API key: send 'Authorization: Bearer <key>'"
            )


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The request body as a JSON object; 413 past ``limit`` bytes, 400 when not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        parts.append(chunk)
    body = b"".join(parts)
    if not body:
        raise InvalidRequest("the request body is empty; expected a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return data


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Await ``work`` in this task; if the client disconnects first, cancel it (and the upstream
    call inside) and raise :class:`ClientDisconnected`.

    One watcher task waits for ``http.disconnect`` and cancels the handler's task; the work
    itself runs inline, so a request costs one extra task, not two and an ``asyncio.wait``.
    """
    handler = asyncio.current_task()
    assert handler is not None
    disconnected = finished = False

    async def watch() -> None:
        nonlocal disconnected
        await _wait_disconnect(request.receive)
        if not finished:
            disconnected = True
            handler.cancel()

    watcher = asyncio.create_task(watch())
    try:
        return await work
    except asyncio.CancelledError:
        if disconnected:
            handler.uncancel()
            raise ClientDisconnected() from None
        raise
    finally:
        finished = True
        watcher.cancel()


async def _wait_disconnect(receive: Callable[[], Awaitable[Any]]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


__all__ = [
    "Authenticator",
    "ClientDisconnected",
    "RequestContext",
    "new_context",
    "read_json",
    "unless_disconnected",
]
