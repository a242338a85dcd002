"""A :class:`RequestRecord` as the rows of ``usage`` and ``usage_attempts`` (pure functions)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from switchyard.records.record import RequestRecord
from switchyard.storage.tables import usage, usage_attempts


def _lengths(table: Any) -> dict[str, int]:
    return {c.name: c.type.length for c in table.columns if getattr(c.type, "length", None)}


# Every text column's length, from the table itself: a value is cut to fit, because a value the
# database refuses (PostgreSQL's VARCHAR does) would fail its whole batch again on every retry.
_USAGE_LENGTHS = _lengths(usage)
_ATTEMPT_LENGTHS = _lengths(usage_attempts)


def _fit(row: dict[str, Any], lengths: dict[str, int]) -> dict[str, Any]:
    for name, length in lengths.items():
        value = row.get(name)
        if isinstance(value, str) and len(value) > length:
            row[name] = value[:length]
    return row


def exact_cost(record: RequestRecord) -> Decimal | None:
    """The record's total in USD as a decimal: None when unpriced (never a silent zero), 0 for
    a request that failed before any deployment used a token."""
    if record.cost is not None:
        return record.cost.exact_total
    return Decimal(0) if record.priced and record.usage is None else None


def saved_cost(record: RequestRecord) -> Decimal | None:
    """A cache hit's saving in USD (None for a request the cache did not answer, or an
    answer that was unpriced when it was made)."""
    saved = record.cost_saved
    return None if saved is None else Decimal(repr(saved.total))


def usage_row(record: RequestRecord, row_id: str) -> dict[str, Any]:
    principal, used = record.principal, record.usage
    row = {
        "id": row_id,
        "created_at": datetime.fromtimestamp(record.started_at, UTC),
        "request_id": record.request_id,
        "tenant": principal.tenant,
        "key_id": principal.key_id,
        "user": principal.user,
        "tags": list(principal.tags),
        "kind": record.kind,
        "alias": record.alias,
        "provider": record.provider,
        "model": record.model,
        "input_tokens": used.input_tokens if used else 0,
        "output_tokens": used.output_tokens if used else 0,
        "cached_tokens": used.cached_input_tokens if used else 0,
        "reasoning_tokens": used.reasoning_tokens if used else 0,
        "cost_usd": exact_cost(record),
        "priced": record.priced,
        "usage_estimated": record.usage_estimated,
        "latency_ms": record.latency_ms,
        "ttft_ms": record.ttft_ms,
        "attempts": len(record.attempts),
        "hedged": record.hedged,
        "status": record.status,
        "error_type": record.error_type,
        "http_status": record.http_status,
        "cache_hit": record.cache_hit,
        "cost_saved_usd": saved_cost(record),
        "guardrails": [list(d) for d in record.guardrails] if record.guardrails else None,
        "template": record.template,
    }
    return _fit(row, _USAGE_LENGTHS)


def attempt_rows(record: RequestRecord, row_id: str) -> list[dict[str, Any]]:
    return [
        _fit(
            {
                "usage_id": row_id,
                "position": position,
                "deployment": attempt.deployment,
                "outcome": attempt.outcome,
                "error_type": attempt.error_type,
                "status": attempt.status,
            },
            _ATTEMPT_LENGTHS,
        )
        for position, attempt in enumerate(record.attempts)
    ]


def record_rows(record: RequestRecord) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One request's usage row and attempt rows, under a fresh random id (kept from then on:
    a row written twice, after a crash, is the same row)."""
    row_id = os.urandom(16).hex()
    return usage_row(record, row_id), attempt_rows(record, row_id)


__all__ = ["attempt_rows", "exact_cost", "record_rows", "saved_cost", "usage_row"]
