"""OpenTelemetry traces of the Gateway's requests (GenAI semantic conventions).

**Shape.** One span per request (``SERVER`` when it came in through a door, ``INTERNAL`` for a
library call) and one ``CLIENT`` child span per attempt: failovers are sibling attempt spans,
a hedge is an attempt span marked ``switchyard.attempt.hedge`` and the one that lost the race
ends with ``switchyard.attempt.outcome = "abandoned"``. Cache lookups and limit or budget
decisions are span events on the request span; a stream's spans end when the stream ends, with
its time to first token as an event and an attribute. The caller's W3C ``traceparent`` (handed
over door-neutrally on the :class:`~switchyard.types.Principal`) is the request span's parent,
and each attempt's upstream HTTP request carries a ``traceparent`` whose parent is the
attempt's span (:mod:`switchyard.providers.trace_headers`).

**Why stage hooks plus a record sink, not a sink alone.** A sink sees the
:class:`~switchyard.records.record.RequestRecord` after the request is over: too late to be the
parent of the upstream requests, whose ``traceparent`` must name a live attempt span. So the
Gateway calls the tracer at the few places where something starts (``begin``: the request;
``attempt``: a wrapper around each attempt's provider call, so the span lives in the
attempt's own task, hedges included; the cache and limit decisions), each a one-line hook
behind ``if self._tracer is not None``; everything that is only *known* at the end (usage,
cost, the deployment that answered, how each attempt ended, the error) is read from the
record by the tracer's sink ``emit``, in one place and without any extra bookkeeping on the
request path. Off, nothing here is imported and no hook runs: no OpenTelemetry import, no
header read, no context variable set.

Modules: :mod:`.switch` (is tracing on: config and ``OTEL_SDK_DISABLED``), :mod:`.genai` (the
attribute names and the pure mapping from canonical objects to attributes, no OpenTelemetry
import), :mod:`.exporters` (the SDK's ``TracerProvider`` from the ``OTEL_*`` variables),
:mod:`.spans` (the tracer the Gateway holds).
"""

from switchyard.telemetry.switch import tracing_enabled

__all__ = ["tracing_enabled"]
