"""The one record every request ends in, whatever door it came by and however it ended.

The Gateway builds it when a request ends (answered, failed, or abandoned by its caller) and
hands it to its sinks (:mod:`switchyard.records.sinks`); later features (the usage ledger,
metrics, traces, events) are sinks too. A record holds no prompt, completion or key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from switchyard.errors import SwitchyardError
from switchyard.types import Cost, Principal, StreamFailover, Usage
from switchyard.types.ratelimits import RateLimitStatus

RequestKind = Literal["chat", "stream", "embed"]
AttemptOutcome = Literal["ok", "error", "abandoned"]


class GuardrailDecision(NamedTuple):
    """A guardrail that fired on this request (once per guardrail and request): its name, the
    side it checked (``input`` or ``output``) and what it did (``block``, ``redact``,
    ``warn``)."""

    name: str
    on: str
    action: str


class AttemptRecord(NamedTuple):
    """One attempt on one deployment: the winner (``ok``), a failure (``error``: its type and
    the upstream's status) or a hedge cancelled or outrun (``abandoned``)."""

    deployment: str  # "provider/model"
    outcome: AttemptOutcome
    error_type: str | None = None  # the taxonomy code (``provider_unavailable``, ``timeout``...)
    status: int | None = None  # the upstream's HTTP status, when it sent one
    usage: Usage | None = None  # an abandoned hedge that had answered: what it used
    cost: Cost | None = None

    @classmethod
    def failed(cls, error: SwitchyardError) -> AttemptRecord:
        return cls(
            deployment=error.deployment or (error.provider or "?"),
            outcome="error",
            error_type=error.code,
            status=error.upstream_status,
        )


@dataclass(slots=True)
class RequestRecord:
    """One request, start to end. ``alias`` is what the caller asked for; ``provider`` and
    ``model`` are the deployment that answered (None when none did). ``cost`` is None when the
    deployment has no price (``priced`` false), never a silent zero."""

    principal: Principal
    kind: RequestKind
    alias: str
    started_at: float  # wall clock (time.time())
    started: float  # perf_counter() at the start, for the latency
    latency_ms: float = 0.0
    status: Literal["success", "error", "cancelled"] = "success"
    provider: str | None = None
    model: str | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)
    usage: Usage | None = None
    usage_estimated: bool = False  # the upstream reported none: the gateway counted
    cost: Cost | None = None
    priced: bool = True
    upstream_ms: float = 0.0
    ttft_ms: float | None = None  # streams: time to the first chunk
    hedged: bool = False
    failovers: list[StreamFailover] = field(default_factory=list)
    error_type: str | None = None  # the taxonomy code of the error the request ended with
    http_status: int = 200
    cache_hit: bool = False  # answered from the response cache
    cache_result: Literal["hit", "miss", "skip"] | None = None  # None: not a cached kind
    refused_by: str | None = None  # a limit's or budget's level (global, tenant, key, alias)
    # the limits-and-budget stage's ticket (switchyard.admission.Ticket), settled at the end
    admission: object | None = None
    rate_limits: RateLimitStatus | None = None  # the tightest limit met, for the headers
    cost_saved: Cost | None = None  # a cache hit: what the stored answer had cost
    trace_id: str | None = None  # with tracing on: the request's trace (32 hex digits)
    # with tracing on: the request's spans (switchyard.telemetry.spans.RequestTrace)
    trace: object | None = None
    guardrails: tuple[GuardrailDecision, ...] = ()  # those that fired, in order
    template: str | None = None  # the prompt template rendered, as "name@version"

    @property
    def request_id(self) -> str:
        return self.principal.request_id

    def failed(self, error: BaseException) -> None:
        """The request ended with ``error`` (a caller who went away: ``cancelled``)."""
        if isinstance(error, SwitchyardError):
            self.status = "error"
            self.error_type = error.code
            self.refused_by = getattr(error, "level", None)
            self.http_status = error.status_code
            self.attempts.extend(AttemptRecord.failed(e) for e in error.attempts)
        elif isinstance(error, asyncio.CancelledError | GeneratorExit):
            self.status, self.error_type, self.http_status = "cancelled", "cancelled", 499
        else:
            self.status, self.error_type, self.http_status = "error", "internal_error", 500


__all__ = [
    "AttemptOutcome",
    "AttemptRecord",
    "GuardrailDecision",
    "RequestKind",
    "RequestRecord",
]
