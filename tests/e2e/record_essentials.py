"""What a request record says about a request, without what differs between two runs of it:
for the tests that send the same request through two doors and compare the records."""

from __future__ import annotations

from typing import Any

from switchyard.records.record import RequestRecord


def essentials(record: RequestRecord) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "alias": record.alias,
        "status": record.status,
        "provider": record.provider,
        "model": record.model,
        "usage": record.usage,
        "usage_estimated": record.usage_estimated,
        "cost": record.cost,
        "priced": record.priced,
        "tenant": record.principal.tenant,
        "key_id": record.principal.key_id,
        "user": record.principal.user,
        "admin": record.principal.admin,
        "tags": record.principal.tags,
        "attempts": [(a.deployment, a.outcome, a.error_type) for a in record.attempts],
        "error_type": record.error_type,
        "http_status": record.http_status,
        "cache_result": record.cache_result,
        "failovers": record.failovers,
    }


__all__ = ["essentials"]
