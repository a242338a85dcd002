"""The app's outermost layer: who may come in, how many at once, and the backstop for bugs.

- **Authentication**, once per request for every door: the credentials (``Authorization:
  Bearer <key>`` or ``x-api-key``) become the request's
  :class:`~switchyard.types.Principal`, left in the ASGI scope for the handler to pass to the
  Gateway (see :func:`switchyard.doors.http.principal_of`); a request without valid ones gets
  401 here and reaches no door. ``/healthz``, ``/readyz`` and ``/metrics`` need none. A
  virtual key (a tenant's caller) is refused with 403 ``admin_required`` on the admin routes
  (:data:`ADMIN_PATHS`): ``/api/v1/admin/*``, ``/api/v1/providers*``,
  ``/api/v1/circuit-breakers*``.
- **Admission**: at most ``server.max_concurrent_requests`` requests in flight (streams count
  until their last byte); past it a request gets 503 ``server_overloaded`` with
  ``Retry-After: 1`` at once. ``/healthz``, ``/readyz`` and ``/metrics`` are always
  answered. One integer, no lock: everything runs on the event loop.
- **Backstop**: an exception no handler mapped (a bug; never a :class:`SwitchyardError`, which
  the doors render themselves) is logged with its traceback and request id on the
  ``switchyard.server`` logger, and the client gets the door's error JSON (500
  ``internal_error``) with its ``x-request-id``, never a plain-text 500 and a dropped
  keep-alive connection. A stream that has already started ends with an error event instead
  (its generator does that, see :mod:`switchyard.doors.openai.routes`). Every route answers
  errors in OpenAI's shape today; a door with another shape needs its own renderer here.
- **Trace context**: with tracing on (``tracing``), the caller's W3C ``traceparent`` and
  ``tracestate`` headers, read in the same pass over the headers, ride on the Principal
  (:class:`~switchyard.types.TraceCarrier`) to the Gateway, whatever the door. Off, they are
  not even looked at.
- **Drain**: a request still waiting when the server cancels it after the drain deadline gets
  503 ``server_shutting_down`` (see :mod:`switchyard.doors.drain`).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchyard.doors.drain import Drain
from switchyard.doors.errors import Overloaded, internal_error, shutting_down
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
from switchyard.formats.openai_chat import error_to_openai
from switchyard.types import TraceCarrier

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# routes only the admin (the master key, or anybody on a server without one) may call
ADMIN_PATHS = ("/api/v1/admin", "/api/v1/providers", "/api/v1/circuit-breakers")


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: Authenticator,
        max_concurrent: int,
        drain: Drain,
        tracing: bool = False,
    ) -> None:
        self.app = app
        self.tracing = tracing
        self.auth = auth
        self.max_concurrent = max_concurrent
        self.drain = drain
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_concurrent and scope["path"] not in EXEMPT_PATHS:
            refusal = Overloaded(
                f"the gateway has {self.max_concurrent} requests in flight, its limit; "
                "retry in a moment",
                retry_after=1.0,
            )
            await _send_error(scope, receive, send, refusal, _request_id(scope))
            return
        if scope["path"] not in EXEMPT_PATHS:
            incoming = authorization = api_key = traceparent = tracestate = None
            tracing = self.tracing
            for name, value in scope["headers"]:  # one pass over the headers, for all of them
                if name == b"authorization":
                    authorization = value
                elif name == b"x-api-key":
                    api_key = value
                elif name == b"x-request-id":
                    incoming = value
                elif tracing and name == b"traceparent":
                    traceparent = value
                elif tracing and name == b"tracestate":
                    tracestate = value
            rid = scope[REQUEST_ID_KEY] = request_id(
                None if incoming is None else incoming.decode("latin-1")
            )
            try:
                principal = await self.auth.authenticate(authorization, api_key, rid)
                if not principal.admin and scope["path"].startswith(ADMIN_PATHS):
                    raise AdminRequired("this route needs the master key")
            except SwitchyardError as refused:
                await _send_error(scope, receive, send, refused, rid)
                return
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
                await _send_error(scope, receive, send, internal_error(rid), rid)
        except asyncio.CancelledError:
            if started or not self.drain.over:
                raise
            task = asyncio.current_task()
            assert task is not None
            task.uncancel()
            await _send_error(scope, receive, send, shutting_down(), _request_id(scope))
        finally:
            self.in_flight -= 1


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


async def _send_error(
    scope: Scope, receive: Receive, send: Send, error: SwitchyardError, rid: str
) -> None:
    """The error as every door answers one (:func:`~switchyard.doors.http.json_error`)."""
    context = RequestContext(rid, 0.0)
    await json_error(error, error_to_openai(error), context)(scope, receive, send)


__all__ = ["ADMIN_PATHS", "EXEMPT_PATHS", "Guard", "report_unexpected"]
