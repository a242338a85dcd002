"""Where records go: the sinks a Gateway holds, and the log line every request writes.

A sink's ``emit`` is called on the request path, once per request, so it must be cheap and
must not block: it formats or enqueues, and slow work (database writes, network) happens off
the request path in the sink's own task. A sink that raises is logged and skipped; it never
fails the request it describes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Protocol

from switchyard.records.record import RequestRecord

log = logging.getLogger("switchyard.requests")

# the request being served, set by the Gateway when a request begins: a log line written on
# its behalf (a provider's warning) carries its id in JSON logs (see switchyard.server.logs)
current_request_id: ContextVar[str | None] = ContextVar("switchyard_request_id", default=None)
# and its trace, when the Gateway traces (see switchyard.telemetry)
current_trace_id: ContextVar[str | None] = ContextVar("switchyard_trace_id", default=None)


class RecordSink(Protocol):
    def emit(self, record: RequestRecord) -> None: ...


class LineBuffer(Protocol):
    """Somewhere to leave a log line whose text is made later, off the request path (the
    served gateway's log handler, :class:`~switchyard.server.logs.BatchingHandler`)."""

    def defer(
        self, name: str, render: Callable[[RequestRecord], Any], item: RequestRecord
    ) -> None: ...


class LogSink:
    """One structured line per request at INFO on the ``switchyard.requests`` logger: request
    id, principal, alias, deployment, attempts, status, latency, tokens and cost. Never
    prompts, completions or keys. With ``lines`` (the server's), the line is rendered later,
    off the request path; otherwise it goes through :mod:`logging` as it is. ``structured``:
    the fields (:func:`fields`) for a JSON line instead of logfmt text (:func:`describe`)."""

    def __init__(
        self,
        logger: logging.Logger = log,
        lines: LineBuffer | None = None,
        *,
        structured: bool = False,
    ) -> None:
        self._log = logger
        self._lines = lines
        self._structured = structured  # JSON logs: the fields as they are, not a logfmt text

    def emit(self, record: RequestRecord) -> None:
        if not self._log.isEnabledFor(logging.INFO):
            return
        if self._lines is not None:
            self._lines.defer(self._log.name, fields if self._structured else describe, record)
        elif self._structured:
            self._log.info("request", extra={"fields": fields(record)})
        else:
            self._log.info("%s", describe(record))


def describe(record: RequestRecord) -> str:
    """The record as ``key=value`` pairs (logfmt), in a fixed order."""
    principal = record.principal
    usage = record.usage
    line = f"request_id={record.request_id} kind={record.kind} status={record.status}"
    if record.error_type:
        line += f" error={record.error_type} http_status={record.http_status}"
    if principal.tenant:
        line += f" tenant={principal.tenant}"
    if principal.key_id:
        line += f" key_id={principal.key_id}"
    if principal.user:
        line += f" user={_quoted(principal.user)}"
    if principal.client:
        line += f" client={principal.client}"
    line += f" alias={_quoted(record.alias)}"
    if record.provider:
        line += f" deployment={_quoted(f'{record.provider}/{record.model}')}"
    line += f" attempts={len(record.attempts)}"
    if record.hedged:
        line += " hedged=true"
    if record.failovers:
        line += f" failovers={len(record.failovers)}"
    if record.cache_hit:
        line += " cache_hit=true"
    line += f" latency_ms={record.latency_ms:.1f}"
    if record.ttft_ms is not None:
        line += f" ttft_ms={record.ttft_ms:.1f}"
    if usage is not None:
        line += f" tokens_in={usage.input_tokens} tokens_out={usage.output_tokens}"
        if record.usage_estimated:
            line += " usage_estimated=true"
    if record.cost is not None:
        line += f" cost_usd={record.cost.total:.8f}"
    elif usage is not None and not record.priced:
        line += " cost_usd=unpriced"
    return line


def fields(record: RequestRecord) -> dict[str, object]:
    """The record as the fields of a JSON log line (the same facts as :func:`describe`);
    ``trace_id`` is the request's trace when tracing is on, else None."""
    principal = record.principal
    usage = record.usage
    out: dict[str, object] = {
        "request_id": record.request_id,
        "trace_id": record.trace_id,
        "kind": record.kind,
        "status": record.status,
    }
    if record.error_type:
        out["error"] = record.error_type
        out["http_status"] = record.http_status
    if principal.tenant:
        out["tenant"] = principal.tenant
    if principal.key_id:
        out["key_id"] = principal.key_id
    if principal.user:
        out["user"] = principal.user
    if principal.client:
        out["client"] = principal.client
    out["alias"] = record.alias
    if record.provider:
        out["deployment"] = f"{record.provider}/{record.model}"
    out["attempts"] = len(record.attempts)
    if record.hedged:
        out["hedged"] = True
    if record.failovers:
        out["failovers"] = len(record.failovers)
    out["latency_ms"] = round(record.latency_ms, 1)
    if record.ttft_ms is not None:
        out["ttft_ms"] = round(record.ttft_ms, 1)
    if usage is not None:
        out["tokens_in"], out["tokens_out"] = usage.input_tokens, usage.output_tokens
        if record.usage_estimated:
            out["usage_estimated"] = True
    if record.cost is not None:
        out["cost_usd"] = record.cost.total
    elif usage is not None and not record.priced:
        out["cost_usd"] = None
    return out


def _quoted(value: str) -> str:
    """Caller-chosen text (alias, user) cannot forge fields or lines: quoted when needed."""
    if value and value.isprintable() and not any(c in value for c in ' "='):
        return value
    return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


__all__ = [
    "LineBuffer",
    "LogSink",
    "RecordSink",
    "current_request_id",
    "current_trace_id",
    "describe",
    "fields",
]
