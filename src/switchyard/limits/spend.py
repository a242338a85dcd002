"""A budget's spend so far, from the usage ledger (the source of truth across restarts)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from switchyard.limits.rules import Scope, usd_units
from switchyard.storage.tables import usage


class LedgerSpend:
    """Sums ``usage.cost_usd`` for one scope and period: what seeds a missing budget counter."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def units(self, scope: Scope) -> int:
        column = usage.c[scope.column]
        query = select(func.coalesce(func.sum(usage.c.cost_usd), 0)).where(
            column == scope.value, usage.c.created_at >= scope.since
        )
        async with self.engine.connect() as connection:
            total = (await connection.execute(query)).scalar_one()
        return usd_units(Decimal(str(total)))


__all__ = ["LedgerSpend"]
