"""A record sink keeping the last failed requests in memory, for the dashboard's errors page.

Bounded (:data:`DEFAULT_SIZE` entries, oldest dropped) and per process: on several replicas
each shows its own. It keeps what the usage ledger already holds about a failure (never a
prompt, a completion or a key).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from switchyard.records.record import RequestRecord

DEFAULT_SIZE = 200


@dataclass(frozen=True, slots=True)
class FailedRequest:
    at: float  # wall clock (time.time()) when the request started
    request_id: str
    tenant: str | None
    key_id: str | None
    alias: str
    deployment: str | None  # "provider/model" of the last attempt, when one was made
    error_type: str | None
    http_status: int
    attempts: int
    latency_ms: float


class RecentErrors:
    """The last ``size`` requests whose status was ``error``."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._items: deque[FailedRequest] = deque(maxlen=size)

    def emit(self, record: RequestRecord) -> None:
        if record.status != "error":
            return
        last = record.attempts[-1].deployment if record.attempts else None
        self._items.append(
            FailedRequest(
                at=record.started_at,
                request_id=record.request_id,
                tenant=record.principal.tenant,
                key_id=record.principal.key_id,
                alias=record.alias,
                deployment=last,
                error_type=record.error_type,
                http_status=record.http_status,
                attempts=len(record.attempts),
                latency_ms=record.latency_ms,
            )
        )

    def latest(self, tenant: str | None = None, *, every: bool = True) -> list[FailedRequest]:
        """Newest first: every tenant's (``every``), else only ``tenant``'s."""
        return [f for f in reversed(self._items) if every or f.tenant == tenant]


__all__ = ["DEFAULT_SIZE", "FailedRequest", "RecentErrors"]
