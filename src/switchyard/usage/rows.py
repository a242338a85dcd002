"""A :class:`RequestRecord` as the rows of ``usage`` and ``usage_attempts`` (pure functions)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from switchyard.records.record import RequestRecord


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
    principal, usage = record.principal, record.usage
    return {
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
        "input_tokens": usage.input_tokens if usage else 0,
        "output_tokens": usage.output_tokens if usage else 0,
        "cached_tokens": usage.cached_input_tokens if usage else 0,
        "reasoning_tokens": usage.reasoning_tokens if usage else 0,
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
    }


def attempt_rows(record: RequestRecord, row_id: str) -> list[dict[str, Any]]:
    return [
        {
            "usage_id": row_id,
            "position": position,
            "deployment": attempt.deployment,
            "outcome": attempt.outcome,
            "error_type": attempt.error_type,
            "status": attempt.status,
        }
        for position, attempt in enumerate(record.attempts)
    ]


def rows(batch: list[RequestRecord]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Both tables' rows for a batch; each usage row gets a fresh random id."""
    usages: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for record in batch:
        row_id = os.urandom(16).hex()
        usages.append(usage_row(record, row_id))
        attempts.extend(attempt_rows(record, row_id))
    return usages, attempts


__all__ = ["attempt_rows", "exact_cost", "rows", "saved_cost", "usage_row"]
