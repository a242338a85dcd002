"""The W3C trace context an attempt's upstream request carries (``traceparent``, ``tracestate``).

The attempt's span is made by :mod:`switchyard.telemetry` (above the providers); the HTTP
client is where the request goes out. Between them is this context variable, set around one
attempt's call (each attempt, hedges too, runs in its own task context) and read by
:class:`~switchyard.providers.http.HttpClient` when it sends. Off (tracing off, or outside an
attempt) it costs one ``ContextVar.get`` per upstream request and adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

# (traceparent, tracestate or None) for the upstream requests of the running attempt
OUTGOING: ContextVar[tuple[str, str | None] | None] = ContextVar(
    "switchyard_outgoing_trace", default=None
)


def with_trace_headers(headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """``headers`` plus the running attempt's trace context, when there is one (a new, small
    dict of headers; the body is never touched), else ``headers`` as they are."""
    trace = OUTGOING.get()
    if trace is None:
        return headers
    traced = dict(headers) if headers else {}
    traced["traceparent"] = trace[0]
    if trace[1]:
        traced["tracestate"] = trace[1]
    return traced


__all__ = ["OUTGOING", "with_trace_headers"]
