"""What every HTTP handler shares: body limits, auth, request ids, model names, headers."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.doors.errors import BodyTimeout
from switchyard.errors import (
    AuthenticationError,
    InvalidRequest,
    LimitExceeded,
    PayloadTooLarge,
    SwitchyardError,
)
from switchyard.tenancy.secrets import looks_like_key
from switchyard.types import Cost, Principal, ServedBy
from switchyard.types.principal import new_request_id
from switchyard.types.usage import usd_text

T = TypeVar("T")
JSON = "application/json"
_unexpected = logging.getLogger("switchyard.server")

# Where a handler leaves its request id in the ASGI scope, for the backstop's log and answer.
REQUEST_ID_KEY = "switchyard.request_id"
PRINCIPAL_KEY = "switchyard.principal"  # and the Principal the guard authenticated
MAX_MODEL_NAME = 256
# Printable ASCII goes into a header as it is; "%" and everything else is percent-encoded.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def report_unexpected(exc: BaseException, request_id: str, where: str) -> None:
    """Log a stray exception loudly, with what the client was told to quote."""
    _unexpected.error(
        "unexpected error in %s [request %s]",
        where,
        request_id,
        exc_info=exc,
        extra={"request_id": request_id},
    )


class ClientDisconnected(Exception):
    """The caller went away before the answer was ready; the work was cancelled."""


@dataclass(slots=True)
class RequestContext:
    """Per-request facts the handlers need: its id, when it arrived and (once the guard's
    Principal is read) who is asking."""

    request_id: str
    started: float
    principal: Principal | None = None

    def headers(
        self, served_by: ServedBy | None = None, cost: Cost | None = None
    ) -> dict[str, str]:
        """The answer's headers; ``cost`` (the answer's, None when unpriced: then no header,
        never a fake 0) as ``x-switchyard-cost-usd``, the decimal the usage ledger keeps."""
        headers = {"x-request-id": self.request_id}
        if cost is not None:
            headers["x-switchyard-cost-usd"] = usd_text(cost.exact_total)
        if served_by is not None:
            elapsed_ms = (time.perf_counter() - self.started) * 1000.0
            headers["x-switchyard-provider"] = served_by.provider
            headers["x-switchyard-model"] = header_value(served_by.model)
            headers["x-switchyard-attempts"] = str(served_by.attempts)
            if served_by.hedged:
                headers["x-switchyard-hedged"] = "true"
            headers["x-switchyard-overhead-ms"] = (
                f"{max(elapsed_ms - served_by.upstream_ms, 0):.3f}"
            )
            if served_by.rate_limits is not None:  # the tightest limit the request met
                headers.update(served_by.rate_limits.headers())
        return headers


def new_context(request: Request) -> RequestContext:
    rid = request.scope.get(REQUEST_ID_KEY)
    if rid is None:
        rid = request.scope[REQUEST_ID_KEY] = request_id(request.headers.get("x-request-id"))
    return RequestContext(rid, time.perf_counter())


def request_id(incoming: str | None) -> str:
    """The caller's ``x-request-id`` when it is short and printable, else a fresh one."""
    if incoming and len(incoming) <= 128 and incoming.isprintable():
        return incoming
    return new_request_id()


def header_value(text: str) -> str:
    """``text`` (which may come from the client: a direct ``provider/model`` name) as a safe
    header value: printable ASCII as it is, anything else percent-encoded as UTF-8."""
    if text.isascii() and text.isprintable():
        return text
    return quote(text, safe=_HEADER_SAFE)


def check_model_name(name: str) -> None:
    """400 (``param: model``) unless the name is 1 to 256 printable characters."""
    if not name or len(name) > MAX_MODEL_NAME:
        raise InvalidRequest(f"model must be 1 to {MAX_MODEL_NAME} characters long", param="model")
    if not name.isprintable():
        raise InvalidRequest(
            "model must not contain control or other non-printable characters", param="model"
        )


KeyCheck = Callable[[bytes, str], Awaitable[Principal]]


class Authenticator:
    """Who a request's credentials say is calling: the token of ``Authorization: Bearer`` (else
    ``x-api-key``) is the master key (the admin), a virtual key (``sk-sy-...``: its tenant, via
    ``keys``, usually :meth:`~switchyard.gateway.Gateway.authenticate_key`), or neither: 401.

    Without a master key (a server on loopback only) a caller with no token, or one that is not
    a virtual key, is the anonymous admin; a virtual key must still be valid (401 otherwise),
    and is used, so the request is the key's (its grant, its usage row). Only the headers'
    credentials decide: never ``Host``, ``X-Forwarded-*`` or the peer address.
    """

    def __init__(self, master_key: str | None, keys: KeyCheck | None = None) -> None:
        self._key = master_key.encode() if master_key else None
        self._keys = keys

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def allows(self, headers: Mapping[str, str]) -> bool:
        """Whether the headers carry the master key (always true when none is set)."""
        if self._key is None:
            return True
        raw = [
            None if v is None else v.encode("latin-1")
            for v in (headers.get("authorization"), headers.get("x-api-key"))
        ]
        token = _token(raw[0], raw[1])
        return token is not None and hmac.compare_digest(token, self._key)

    async def authenticate(
        self, authorization: bytes | None, api_key: bytes | None, rid: str
    ) -> Principal:
        """The caller of a request with these ``Authorization`` and ``x-api-key`` header
        values (raw, as ASGI has them), or 401 (503 when a key needs the database and it is
        down)."""
        token = _token(authorization, api_key)
        if token is not None:
            if self._key is not None and hmac.compare_digest(token, self._key):
                return Principal(request_id=rid, admin=True)
            if looks_like_key(token):
                if self._keys is None:
                    raise AuthenticationError("invalid API key: this server has no virtual keys")
                return await self._keys(token, rid)
        if self._key is None:
            return Principal(request_id=rid, admin=True)
        raise AuthenticationError(
            "missing or invalid API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'"
        )


def _token(authorization: bytes | None, api_key: bytes | None) -> bytes | None:
    if authorization is not None and authorization[:7].lower() == b"bearer ":
        return authorization[7:].strip() or None
    return api_key.strip() or None if api_key else None


def principal_of(request: Request) -> Principal:
    """The caller the app's guard authenticated (see :mod:`switchyard.server.guard`)."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if principal is None:  # a handler mounted without the guard: refuse, never assume
        raise AuthenticationError("the request was not authenticated")
    return principal  # type: ignore[no-any-return]


def json_error(
    error: SwitchyardError,
    body: dict[str, Any],
    context: RequestContext,
    status: int | None = None,
) -> Response:
    """A door's error answer: ``body`` (the error in the door's own format) with the error's
    status (or ``status``, when the door's format has its own), ``Retry-After`` when it has
    one, and the request id."""
    headers = context.headers()
    if error.status_code == 408:  # the body did not arrive in time: the rest never will
        headers["connection"] = "close"
    if error.retry_after is not None:
        headers["retry-after"] = str(max(int(error.retry_after + 0.999), 0))
        headers["retry-after-ms"] = str(int(error.retry_after * 1000))
    if isinstance(error, LimitExceeded) and error.rate_limits is not None:
        headers.update(error.rate_limits.headers())  # OpenAI's x-ratelimit-* on a 429
    return Response(
        orjson.dumps(body),
        status_code=error.status_code if status is None else status,
        media_type=JSON,
        headers=headers,
    )


async def read_json(request: Request, limit: int, seconds: float) -> dict[str, Any]:
    """The request body as a JSON object; 413 past ``limit`` bytes, 408 when it takes longer
    than ``seconds`` to arrive, 400 when not JSON."""
    body = await read_body(request, limit, seconds)
    if not body:
        raise InvalidRequest("the request body is empty; expected a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return data


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The request body's bytes; 413 past ``limit`` bytes, 408 when it takes longer than
    ``seconds`` to arrive (:class:`ClientDisconnected` when the client leaves mid-body)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        async with asyncio.timeout(seconds):
            return await _read_body(request, limit)
    except TimeoutError:
        raise BodyTimeout(f"the request body did not arrive within {seconds:g}s") from None


async def _read_body(request: Request, limit: int) -> bytes:
    """The body's ASGI messages, read straight from ``receive`` (one message, usually)."""
    receive = request.receive
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client left mid-body: nobody to answer
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        parts.append(chunk)
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


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
    "MAX_MODEL_NAME",
    "PRINCIPAL_KEY",
    "REQUEST_ID_KEY",
    "Authenticator",
    "ClientDisconnected",
    "KeyCheck",
    "RequestContext",
    "check_model_name",
    "header_value",
    "json_error",
    "new_context",
    "principal_of",
    "read_body",
    "read_json",
    "report_unexpected",
    "request_id",
    "unless_disconnected",
]
