"""``GET /api/v1/usage/summary`` from the usage table: requests, tokens, cost, errors, cache hits
and latency percentiles per group, plus the totals.

The database adds up what it adds up exactly: counts and token sums on both databases, and on
PostgreSQL the cost (a NUMERIC sum) and the latency percentiles (``percentile_cont``). SQLite
keeps the cost as text, which its SUM would turn into a float: there the costs are summed here,
as :class:`~decimal.Decimal`, and the percentiles computed here by the same definition
(:func:`~switchyard.usage.report.percentile`), from the selected rows streamed in order. So both
databases answer the same numbers for the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchyard.errors import StorageUnavailable
from switchyard.storage.tables import usage
from switchyard.usage.report import (
    MAX_GROUPS,
    SummaryQuery,
    UsageGroup,
    UsageStats,
    UsageSummary,
    percentile,
    summary_query,
)

Key = tuple[str | None, ...]
_COLUMNS = {
    "tenant": usage.c.tenant,
    "key": usage.c.key_id,
    "user": usage.c.user,
    "alias": usage.c.alias,
    "provider": usage.c.provider,
    "model": usage.c.model,
    "template": usage.c.template,
}
# UTC buckets as ISO 8601 text, the same string on both databases
_BUCKETS = {
    "postgresql": {"hour": 'YYYY-MM-DD"T"HH24:00:00"Z"', "day": "YYYY-MM-DD"},
    "sqlite": {"hour": "%Y-%m-%dT%H:00:00Z", "day": "%Y-%m-%d"},
}


async def summarize(
    engine: AsyncEngine,
    group_by: str | Sequence[str] | None = None,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    tenant: str | None = None,
    *,
    max_groups: int = MAX_GROUPS,
) -> UsageSummary:
    """The summary of the usage rows created in ``[since, until)`` (of ``tenant`` only, when
    set), grouped by ``group_by``. 400 for a bad parameter, 503 when the database fails."""
    query = summary_query(group_by, since, until, tenant)
    try:
        async with engine.connect() as connection:
            return await _Summarizer(connection, query, max_groups).run()
    except (SQLAlchemyError, OSError) as exc:
        raise StorageUnavailable(
            f"the usage database did not answer the summary ({type(exc).__name__})"
        ) from exc


class _Summarizer:
    def __init__(self, connection: AsyncConnection, query: SummaryQuery, max_groups: int) -> None:
        self.connection = connection
        self.query = query
        self.max_groups = max_groups
        self.dialect = connection.dialect.name
        self.exact_in_sql = self.dialect == "postgresql"
        self.keys = [self._key(name).label(f"k{i}") for i, name in enumerate(query.group_by)]

    async def run(self) -> UsageSummary:
        summary = UsageSummary(self.query)
        everything = self._filtered(select(*self._aggregates()))
        summary.totals = self._stats((await self.connection.execute(everything)).one()._mapping)
        if self.keys:
            grouped = (
                self._filtered(select(*self.keys, *self._aggregates()))
                .group_by(*self.keys)
                .order_by(*(self._ascending(k) for k in self.keys))
                .limit(self.max_groups + 1)
            )
            rows = (await self.connection.execute(grouped)).all()
            summary.truncated = len(rows) > self.max_groups
            for row in rows[: self.max_groups]:
                values = row._mapping
                keys = {name: values[f"k{i}"] for i, name in enumerate(self.query.group_by)}
                summary.groups.append(UsageGroup(keys, self._stats(values)))
        if not self.exact_in_sql:
            await self._cost_and_latency_here(summary)
        return summary

    # -- SQL ------------------------------------------------------------------------------

    def _key(self, name: str) -> ColumnElement[Any]:
        if name in _COLUMNS:
            return _COLUMNS[name]
        pattern = _BUCKETS[self.dialect][name]
        created = usage.c.created_at
        if self.dialect == "postgresql":
            return func.to_char(func.timezone("UTC", created), pattern)
        return func.strftime(pattern, created)

    def _ascending(self, key: ColumnElement[Any]) -> ColumnElement[Any]:
        # byte order on both (SQLite's BINARY is PostgreSQL's "C"), nulls first on both
        ordered = key.collate("C") if self.dialect == "postgresql" else key
        return ordered.asc().nulls_first()

    def _aggregates(self) -> list[ColumnElement[Any]]:
        c = usage.c
        columns: list[ColumnElement[Any]] = [
            func.count().label("requests"),
            _sum(c.input_tokens).label("input_tokens"),
            _sum(c.output_tokens).label("output_tokens"),
            _sum(c.cached_tokens).label("cached_tokens"),
            _sum(c.reasoning_tokens).label("reasoning_tokens"),
            _sum(case((c.status != "success", 1), else_=0)).label("errors"),
            _sum(case((c.cache_hit == true(), 1), else_=0)).label("cache_hits"),
            _sum(case((c.cost_usd.is_(None), 1), else_=0)).label("unpriced"),
        ]
        if self.exact_in_sql:
            columns.append(func.sum(c.cost_usd, type_=c.cost_usd.type).label("cost_usd"))
            for fraction, name in ((0.5, "p50"), (0.95, "p95")):
                columns.append(
                    func.percentile_cont(literal_column(repr(fraction)))
                    .within_group(c.latency_ms.asc())
                    .label(name)
                )
        return columns

    def _filtered(self, statement: Select[Any]) -> Select[Any]:
        c, query = usage.c, self.query
        if query.since is not None:
            statement = statement.where(c.created_at >= query.since)
        if query.until is not None:
            statement = statement.where(c.created_at < query.until)
        if query.tenant is not None:
            statement = statement.where(c.tenant == query.tenant)
        return statement

    def _stats(self, values: Any) -> UsageStats:
        stats = UsageStats(
            requests=int(values["requests"]),
            input_tokens=int(values["input_tokens"]),
            output_tokens=int(values["output_tokens"]),
            cached_tokens=int(values["cached_tokens"]),
            reasoning_tokens=int(values["reasoning_tokens"]),
            errors=int(values["errors"]),
            cache_hits=int(values["cache_hits"]),
            unpriced=int(values["unpriced"]),
        )
        if self.exact_in_sql:
            stats.cost_usd = values["cost_usd"]
            stats.latency_p50_ms = _float(values["p50"])
            stats.latency_p95_ms = _float(values["p95"])
        return stats

    # -- SQLite: exact cost and percentiles from the rows -----------------------------------

    async def _cost_and_latency_here(self, summary: UsageSummary) -> None:
        """Stream the selected rows' latency and cost, in latency order, once: each lands in
        the totals and in its group's tally (rows of groups cut by the cap only in the
        totals)."""
        c = usage.c
        tallies: dict[Key, _Tally] = {
            tuple(group.keys.values()): _Tally() for group in summary.groups
        }
        everything = _Tally()
        rows = self._filtered(select(*self.keys, c.latency_ms, c.cost_usd)).order_by(c.latency_ms)
        width = len(self.keys)
        result = await self.connection.stream(rows)
        async for row in result:
            latency, cost = row[width], row[width + 1]
            everything.add(latency, cost)
            tally = tallies.get(tuple(row[:width])) if width else None
            if tally is not None:
                tally.add(latency, cost)
        everything.settle(summary.totals)
        for group in summary.groups:
            tallies[tuple(group.keys.values())].settle(group.stats)


class _Tally:
    __slots__ = ("cost", "latencies")

    def __init__(self) -> None:
        self.latencies: list[float] = []  # arrive sorted
        self.cost: Decimal | None = None

    def add(self, latency: float, cost: Decimal | None) -> None:
        self.latencies.append(latency)
        if cost is not None:
            self.cost = cost if self.cost is None else self.cost + cost

    def settle(self, stats: UsageStats) -> None:
        stats.cost_usd = self.cost
        stats.latency_p50_ms = percentile(self.latencies, 0.5)
        stats.latency_p95_ms = percentile(self.latencies, 0.95)


def _sum(expression: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(expression), 0)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


__all__ = ["summarize"]
