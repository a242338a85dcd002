"""Usage events as CloudEvents-style JSON envelopes: pure functions, no I/O and no clock.

    {"specversion": "1.0", "id": "<unique>", "source": "switchyard",
     "type": "llm_provider.request_completed.v1", "time": "2026-12-03T13:46:50.123Z",
     "datacontenttype": "application/json", "data": {...}}

``data`` carries who asked (request id, correlation id, tenant, key id, user), what for (the
alias, the deployment that answered), and how it went (status, error type, usage, cost,
latency, time to first token, attempts, the guardrails that fired). Never a prompt, a
completion or a key's secret: a :class:`~switchyard.records.record.RequestRecord` holds none.
"""

from __future__ import annotations

import functools
import time
from typing import Any, NamedTuple

import orjson

from switchyard.events.settings import EVENT_NAMES, EventName, event_type
from switchyard.records.record import RequestKind, RequestRecord
from switchyard.types import Principal

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
TYPES = {name: event_type(name) for name in EVENT_NAMES}


class Started(NamedTuple):
    """What a request is known by when it begins (the record changes as it goes on)."""

    principal: Principal
    kind: RequestKind
    alias: str
    started_at: float  # wall clock


def started_data(started: Started) -> dict[str, Any]:
    """``llm_provider.request_started.v1``'s data: who asked for what."""
    return _asked(started.principal, started.kind, started.alias)


def _asked(principal: Principal, kind: RequestKind, alias: str) -> dict[str, Any]:
    """Who asked for what: the part every event's data begins with."""
    request_id = principal.request_id
    return {
        # the request id is the caller's x-request-id when it sent one (the doors keep it), so
        # it is also the id that correlates this request with the caller's own work
        "request_id": request_id,
        "correlation_id": request_id,
        "tenant": principal.tenant,
        "key_id": principal.key_id,
        "user": principal.user,
        "tags": principal.tags,
        "kind": kind,
        "alias": alias,
    }


def ended_data(record: RequestRecord) -> dict[str, Any]:
    """``request_completed`` / ``failure`` data: the finished record, without any text."""
    usage = record.usage
    cost = record.cost
    ttft = record.ttft_ms
    return {
        **_asked(record.principal, record.kind, record.alias),
        "provider": record.provider,
        "model": record.model,
        "status": record.status,
        "error_type": record.error_type,
        "http_status": record.http_status,
        "usage": None
        if usage is None
        else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
            "estimated": record.usage_estimated,
        },
        "cost": None
        if cost is None
        else {
            "input_usd": round(cost.input, 10),
            "output_usd": round(cost.output, 10),
            "total_usd": round(cost.total, 10),
        },
        "priced": record.priced,
        "latency_ms": round(record.latency_ms, 3),
        "ttft_ms": None if ttft is None else round(ttft, 3),
        "upstream_ms": round(record.upstream_ms, 3),
        "attempts": len(record.attempts),
        "failovers": len(record.failovers),
        "hedged": record.hedged,
        "cache": record.cache_result,
        "refused_by": record.refused_by,
        "guardrails": [list(decision) for decision in record.guardrails],
        "template": record.template,
    }


def ended_name(record: RequestRecord) -> EventName:
    """``request_completed`` for an answered request, ``failure`` for any other end."""
    return "request_completed" if record.status == "success" else "failure"


def envelope(
    name: EventName, event_id: str, source: str, at: float, data: dict[str, Any]
) -> dict[str, Any]:
    """The CloudEvents-style envelope of one event that happened at ``at`` (epoch seconds)."""
    return {
        "specversion": SPEC_VERSION,
        "id": event_id,
        "source": source,
        "type": TYPES[name],
        "time": rfc3339(at),
        "datacontenttype": CONTENT_TYPE,
        "data": data,
    }


def encode(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


def rfc3339(at: float) -> str:
    """``2026-12-03T13:46:50.123Z``: UTC, milliseconds (truncated, like ``isoformat``)."""
    seconds = int(at)
    return f"{_second(seconds)}.{int((at - seconds) * 1000):03d}Z"


@functools.lru_cache(maxsize=8)
def _second(seconds: int) -> str:
    """The formatted second (events of one second share it: formatted once)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


__all__ = [
    "CONTENT_TYPE",
    "SPEC_VERSION",
    "Started",
    "encode",
    "ended_data",
    "ended_name",
    "envelope",
    "rfc3339",
    "started_data",
]
