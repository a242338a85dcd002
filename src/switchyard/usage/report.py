"""What a usage summary asks and answers, without the database: the query's checks (shared by
the HTTP route, the CLI and the library, so each refuses the same things with the same
``param``), the answer's shape, and its JSON.

The database side is :mod:`switchyard.usage.summary`; this module needs no storage driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from switchyard.errors import InvalidRequest
from switchyard.types.usage import usd_text

# what ``group_by`` may name, in the order columns are shown; ``key`` is the virtual key's id
GROUP_BY = ("tenant", "key", "user", "alias", "provider", "model", "template", "hour", "day")
MAX_GROUPS = 10_000  # beyond: the answer says ``truncated``
PERCENTILES = (0.5, 0.95)


@dataclass(frozen=True, slots=True)
class SummaryQuery:
    """A checked query: ``since`` inclusive, ``until`` exclusive, both aware UTC datetimes."""

    group_by: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    tenant: str | None = None


@dataclass(slots=True)
class UsageStats:
    """What a set of usage rows adds up to. ``cost_usd`` sums the rows that have a price; it is
    None when none has (``unpriced`` counts the requests without one: never a silent zero).
    Latency percentiles interpolate linearly between the two nearest rows (PostgreSQL's
    ``percentile_cont``); None when there are no rows."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal | None = None
    unpriced: int = 0
    errors: int = 0
    cache_hits: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None


@dataclass(slots=True)
class UsageGroup:
    """One group: its keys (one per ``group_by`` name, None where the rows had none: the admin's
    own requests have no tenant) and its stats."""

    keys: dict[str, str | None]
    stats: UsageStats


@dataclass(slots=True)
class UsageSummary:
    """Groups in ascending key order (time buckets oldest first; null keys first), at most
    ``MAX_GROUPS`` of them (``truncated`` says there were more); ``totals`` is over every row
    selected, truncated or not."""

    query: SummaryQuery
    groups: list[UsageGroup] = field(default_factory=list)
    totals: UsageStats = field(default_factory=UsageStats)
    truncated: bool = False


def summary_query(
    group_by: str | Sequence[str] | None = None,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    tenant: str | None = None,
) -> SummaryQuery:
    """Check a query: ``group_by`` as ``"tenant,model"`` or a list of names; ``since`` and
    ``until`` as ISO 8601 (a date alone is its midnight, a time without an offset is UTC).
    400 (``InvalidRequest``) naming the parameter otherwise."""
    start, end = _instant(since, "since"), _instant(until, "until")
    if start is not None and end is not None and end <= start:
        raise InvalidRequest("until must be later than since", param="until")
    return SummaryQuery(group_by=_group_by(group_by), since=start, until=end, tenant=tenant or None)


def _group_by(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    chosen: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name not in GROUP_BY:
            raise InvalidRequest(
                f"group_by: unknown name {name[:64]!r}; use any of {', '.join(GROUP_BY)}",
                param="group_by",
            )
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def _instant(value: str | date | datetime | None, param: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidRequest(
                f"{param} must be an ISO 8601 date or time (2026-12-01 or "
                f"2026-12-01T09:30:00Z), not {value[:64]!r}",
                param=param,
            ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# -- percentiles ----------------------------------------------------------------------------


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont``, step for step (the same float operations, so both
    databases give the same numbers): the value at position ``fraction * (n - 1)`` of the
    sorted values, interpolated linearly between its two neighbours."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    first = int(position // 1)
    second = -int(-position // 1)  # ceil
    if first == second:
        return ordered[first]
    low, high = ordered[first], ordered[second]
    return low + (position - first) * (high - low)


# -- JSON ------------------------------------------------------------------------------------


def stats_json(stats: UsageStats) -> dict[str, Any]:
    return {
        "requests": stats.requests,
        "input_tokens": stats.input_tokens,
        "output_tokens": stats.output_tokens,
        "cached_tokens": stats.cached_tokens,
        "reasoning_tokens": stats.reasoning_tokens,
        "cost_usd": None if stats.cost_usd is None else usd_text(stats.cost_usd),
        "unpriced_requests": stats.unpriced,
        "errors": stats.errors,
        "cache_hits": stats.cache_hits,
        "latency_ms": {"p50": stats.latency_p50_ms, "p95": stats.latency_p95_ms},
    }


def summary_json(summary: UsageSummary) -> dict[str, Any]:
    """The answer of ``GET /api/v1/usage/summary`` (and ``switchyard usage --json``): each
    group's keys at its top level, beside its stats; costs as decimal strings."""
    query = summary.query
    return {
        "object": "usage.summary",
        "group_by": list(query.group_by),
        "since": _iso(query.since),
        "until": _iso(query.until),
        "tenant": query.tenant,
        "groups": [{**group.keys, **stats_json(group.stats)} for group in summary.groups],
        "totals": stats_json(summary.totals),
        "truncated": summary.truncated,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


__all__ = [
    "GROUP_BY",
    "MAX_GROUPS",
    "SummaryQuery",
    "UsageGroup",
    "UsageStats",
    "UsageSummary",
    "percentile",
    "stats_json",
    "summary_json",
    "summary_query",
]
