"""The tracer a Gateway holds when tracing is on: its stage hooks and its record sink.

- :meth:`GatewayTracer.begin` (the request begins): the request span, child of the caller's
  ``traceparent`` (a door's request: ``SERVER``) or of the library caller's current span
  (``INTERNAL``); its trace id goes on the record and into the log context;
- :meth:`GatewayTracer.attempt` wraps one attempt's provider call: a ``CLIENT`` span in the
  attempt's own task, whose context the upstream HTTP request carries. A call that raised a
  taxonomy error ends its span at once; one that answered (or was cancelled) is *parked*: how
  it ended (the winner, a hedge that lost, a timeout) is read from the record at the end, and
  a stream's span lasts as long as its stream;
- :meth:`GatewayTracer.cache` and :meth:`GatewayTracer.admitted`: decision events;
- :meth:`GatewayTracer.emit` (the record sink): the end of every span of the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import SwitchyardError
from switchyard.midstream import Transcript
from switchyard.providers.trace_headers import OUTGOING
from switchyard.records.record import AttemptRecord, RequestKind, RequestRecord
from switchyard.records.sinks import current_trace_id
from switchyard.routing.candidate import Candidate
from switchyard.telemetry import genai
from switchyard.telemetry.exporters import build_tracer_provider
from switchyard.types import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse

if TYPE_CHECKING:
    from opentelemetry.context import Context

    from switchyard.admission import Ticket

T = TypeVar("T")
MAX_TRACESTATE = 512  # a caller's tracestate longer than this is not carried on
MAX_CACHED_ATTRIBUTES = 10_000
# a request that came in through a door without a (valid) traceparent: a new trace
_NEW_TRACE = trace.set_span_in_context(trace.INVALID_SPAN)


@dataclass(slots=True)
class _Parked:
    """An attempt span whose end waits for the request's record."""

    span: trace.Span
    key: str
    ended_at: int | None  # ns; None: a stream, open until the request ends
    answered: bool


@dataclass(slots=True)
class RequestTrace:
    """One request's spans (kept on its record, ``record.trace``)."""

    span: trace.Span
    context: Context  # the attempts' parent
    operation: str
    content: bool  # the alias records prompt and completion
    started_ns: int
    parked: list[_Parked] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # deployments of attempts ended on errors
    in_flight: int = 0
    output: str | None = None


class GatewayTracer:
    def __init__(
        self,
        provider: trace.TracerProvider,
        *,
        content_aliases: frozenset[str] = frozenset(),
        adapter_types: Mapping[str, str] | None = None,
        owned: bool = False,
    ) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("switchyard")
        self._content = content_aliases
        self._types = dict(adapter_types or {})
        self._owned = owned  # built here from OTEL_*: shut down (flushed) by aclose
        # an attempt span's first attributes, per (kind, deployment): built once each (the
        # SDK copies them), bounded by the configured and capped direct deployments
        self._attempt_attributes: dict[tuple[str, str, bool], genai.Attributes] = {}

    @classmethod
    def build(
        cls,
        config: SwitchyardConfig,
        provider: trace.TracerProvider | None,
        environ: Mapping[str, str],
    ) -> GatewayTracer:
        """The caller's ``provider``; else the process's, when the application set one
        (``trace.set_tracer_provider``); else one built from the ``OTEL_*`` variables."""
        owned = False
        if provider is None:
            current = trace.get_tracer_provider()
            if isinstance(current, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
                provider, owned = build_tracer_provider(environ), True
            else:
                provider = current
        return cls(
            provider,
            content_aliases=frozenset(a.name for a in config.models if a.trace_content),
            adapter_types={name: p.type for name, p in config.providers.items()},
            owned=owned,
        )

    def adapter_type(self, provider: str) -> str:
        return self._types.get(provider, provider)

    # -- hooks ------------------------------------------------------------------------------

    def begin(self, record: RequestRecord, request: ChatRequest | EmbeddingRequest) -> None:
        """The request span; the record gets its trace id."""
        self._start(record, request)

    def attempt(
        self, record: RequestRecord, call: Callable[[Candidate], Awaitable[T]]
    ) -> Callable[[Candidate], Awaitable[T]]:
        """``call`` (one attempt's provider call) inside its own ``CLIENT`` span."""
        request_trace = record.trace
        if not isinstance(request_trace, RequestTrace):
            return call
        tracer, operation = self._tracer, request_trace.operation
        kind = record.kind

        async def traced(candidate: Candidate) -> T:
            span = tracer.start_span(
                genai.span_name(operation, candidate.model),
                context=request_trace.context,
                kind=SpanKind.CLIENT,
                attributes=self._starting(kind, candidate, request_trace.in_flight > 0),
            )
            context = span.get_span_context()
            state = context.trace_state
            token = OUTGOING.set(
                (
                    genai.format_traceparent(
                        context.trace_id, context.span_id, context.trace_flags
                    ),
                    state.to_header() if state else None,
                )
            )
            request_trace.in_flight += 1
            try:
                value = await call(candidate)
            except SwitchyardError as error:
                _ended(span, "error", error.code)
                span.end()
                request_trace.failed.append(candidate.key)
                raise
            except BaseException:  # cancelled: a timeout, a hedge that lost, the caller gone
                request_trace.parked.append(_Parked(span, candidate.key, time.time_ns(), False))
                raise
            finally:
                request_trace.in_flight -= 1
                OUTGOING.reset(token)
            ended_at = None  # a stream's span ends with the stream
            if isinstance(value, ChatResponse | EmbeddingResponse):
                answered = genai.response_attributes(value)
                answered[genai.OUTCOME] = "ok"  # unless it lost a race: then set again
                span.set_attributes(answered)
                if request_trace.content and isinstance(value, ChatResponse):
                    span.set_attribute(genai.OUTPUT_MESSAGES, genai.response_messages(value))
                ended_at = time.time_ns()
            request_trace.parked.append(_Parked(span, candidate.key, ended_at, True))
            return value

        return traced

    def _starting(self, kind: RequestKind, candidate: Candidate, hedge: bool) -> genai.Attributes:
        key = (kind, candidate.key, hedge)
        attributes = self._attempt_attributes.get(key)
        if attributes is None:
            attributes = genai.attempt_attributes(
                kind,
                self.adapter_type(candidate.provider.name),
                candidate.key,
                candidate.model,
                hedge=hedge,
            )
            if len(self._attempt_attributes) < MAX_CACHED_ATTRIBUTES:
                self._attempt_attributes[key] = attributes
        return attributes

    def cache(self, record: RequestRecord, result: str) -> None:
        """The cache lookup's decision: ``hit``, ``miss`` or ``skip``."""
        if isinstance(record.trace, RequestTrace):
            record.trace.span.add_event("switchyard.cache", {"switchyard.cache.result": result})

    def admitted(self, record: RequestRecord, ticket: Ticket) -> None:
        """The limits and budget admitted the request (a refusal is an event at its end)."""
        if not isinstance(record.trace, RequestTrace):
            return
        attributes: dict[str, Any] = {
            "switchyard.limits.decision": "admitted",
            "switchyard.limits.estimated_tokens": ticket.estimate,
        }
        status = ticket.status
        if status is not None:
            if status.remaining_requests is not None:
                attributes["switchyard.limits.remaining_requests"] = status.remaining_requests
            if status.remaining_tokens is not None:
                attributes["switchyard.limits.remaining_tokens"] = status.remaining_tokens
        record.trace.span.add_event("switchyard.limits", attributes)

    def stream_finished(self, record: RequestRecord, transcript: Transcript) -> None:
        """A stream's completion text, for an alias that records content."""
        request_trace = record.trace
        if isinstance(request_trace, RequestTrace) and request_trace.content:
            finish = "stop" if transcript.finished else None
            request_trace.output = genai.output_messages([transcript.text], [finish])

    # -- the record sink --------------------------------------------------------------------

    def emit(self, record: RequestRecord) -> None:
        """End the request's spans, with what its record says (a request refused before it
        began, its body unreadable, gets its span here, from its start)."""
        request_trace = record.trace
        if not isinstance(request_trace, RequestTrace):
            request_trace = self._start(record, None)
        served = f"{record.provider}/{record.model}" if record.provider is not None else None
        _end_attempts(request_trace, record, served)
        span = request_trace.span
        span.set_attributes(
            genai.record_attributes(
                record, None if record.provider is None else self.adapter_type(record.provider)
            )
        )
        if record.ttft_ms is not None:
            span.add_event(
                "switchyard.first_token",
                {genai.TTFT: record.ttft_ms},
                timestamp=request_trace.started_ns + int(record.ttft_ms * 1_000_000),
            )
        if record.refused_by is not None:
            span.add_event(
                "switchyard.limits",
                {
                    "switchyard.limits.decision": "refused",
                    "switchyard.limits.level": record.refused_by,
                    genai.ERROR_TYPE: record.error_type or "",
                },
            )
        if request_trace.output is not None:
            span.set_attribute(genai.OUTPUT_MESSAGES, request_trace.output)
        if record.status != "success":
            span.set_status(Status(StatusCode.ERROR, record.error_type))
        span.end()
        record.trace = None  # the spans are done; the record may wait in other sinks' queues

    async def aclose(self) -> None:
        """Export what is still pending (a provider built here; the caller's is theirs)."""
        shutdown = getattr(self.provider, "shutdown", None)
        if self._owned and shutdown is not None:
            await asyncio.to_thread(shutdown)

    # -- helpers ----------------------------------------------------------------------------

    def _start(
        self, record: RequestRecord, request: ChatRequest | EmbeddingRequest | None
    ) -> RequestTrace:
        operation = genai.OPERATIONS[record.kind]
        carrier = record.principal.trace
        parent: Context | None = None
        kind = SpanKind.INTERNAL
        if carrier is not None:  # through a door: the caller's context, or a new trace
            kind = SpanKind.SERVER
            parent = _remote_parent(carrier.traceparent, carrier.tracestate)
        started_ns = int(record.started_at * 1e9)
        attributes = (
            genai.request_attributes(record.kind, request)
            if request is not None
            else {genai.OPERATION: operation, genai.REQUEST_MODEL: record.alias}
        )
        span = self._tracer.start_span(
            genai.span_name(operation, record.alias),
            context=parent,
            kind=kind,
            attributes=attributes,
            start_time=started_ns,
        )
        content = record.alias in self._content
        if content and request is not None:
            span.set_attribute(genai.INPUT_MESSAGES, genai.input_messages(request))
        request_trace = RequestTrace(
            span, trace.set_span_in_context(span), operation, content, started_ns
        )
        record.trace = request_trace
        trace_id = span.get_span_context().trace_id
        if trace_id:
            record.trace_id = f"{trace_id:032x}"
            current_trace_id.set(record.trace_id)
        return request_trace


def _remote_parent(traceparent: str | None, tracestate: str | None) -> Context | None:
    """The caller's span as the parent (None when it sent no valid ``traceparent``: then the
    request starts a new trace; it never joins the gateway process's own current span)."""
    parsed = genai.parse_traceparent(traceparent)
    if parsed is None:
        return _NEW_TRACE
    state = None
    if tracestate and len(tracestate) <= MAX_TRACESTATE:
        state = TraceState.from_header([tracestate])
    context = SpanContext(
        parsed.trace_id,
        parsed.span_id,
        is_remote=True,
        trace_flags=TraceFlags(parsed.flags & 0x01),
        trace_state=state,
    )
    return trace.set_span_in_context(NonRecordingSpan(context))


def _end_attempts(request_trace: RequestTrace, record: RequestRecord, served: str | None) -> None:
    """End the attempt spans left open, each with how it ended: the record's attempts say
    which answer was used, which hedges lost and which attempts timed out."""
    parked = request_trace.parked
    if not parked:
        return
    if len(parked) == 1 and not request_trace.failed and record.status == "success":
        only = parked[0]  # the usual request: one attempt, which answered
        if only.answered and only.key == served:
            if only.ended_at is None:  # a stream (a plain answer's span says "ok" already)
                only.span.set_attribute(genai.OUTCOME, "ok")
            only.span.end(end_time=only.ended_at)
            return
    left = list(record.attempts)
    for key in request_trace.failed:  # their spans ended already, with their error
        _take(left, key)
    winner = next(
        (p for p in reversed(parked) if p.answered and p.key == served),
        None,
    )
    for attempt in parked:
        if attempt is winner:
            if record.status == "success":
                outcome, error = "ok", None
            else:  # a stream that broke, or a caller who went away, after its answer began
                outcome, error = "error", record.error_type
                if record.status == "cancelled":
                    outcome = "cancelled"
        else:
            said = _take(left, attempt.key)
            if said is None:
                outcome, error = ("abandoned", None) if attempt.answered else ("cancelled", None)
                if not attempt.answered and record.error_type is not None:
                    error = record.error_type
            elif said.outcome == "error":
                outcome = "timeout" if said.error_type == "timeout" else "error"
                error = said.error_type
            else:
                outcome, error = "abandoned", None
        _ended(attempt.span, outcome, error)
        attempt.span.end(end_time=attempt.ended_at)


def _take(attempts: list[AttemptRecord], key: str) -> AttemptRecord | None:
    """The record's first attempt on ``key`` that was not ``ok`` (removed from the list)."""
    provider = key.split("/", 1)[0]
    for i, attempt in enumerate(attempts):
        if attempt.outcome != "ok" and attempt.deployment in (key, provider):
            return attempts.pop(i)
    return None


def _ended(span: trace.Span, outcome: str, error: str | None) -> None:
    span.set_attribute(genai.OUTCOME, outcome)
    if error is not None:
        span.set_attribute(genai.ERROR_TYPE, error)
        span.set_status(Status(StatusCode.ERROR, error))


__all__ = ["GatewayTracer", "RequestTrace"]
