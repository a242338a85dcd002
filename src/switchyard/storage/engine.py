"""The async engine for ``storage.url``."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchyard.storage.settings import StorageSettings


def build_engine(settings: StorageSettings) -> AsyncEngine:
    # pre-ping: a pooled connection the database closed (restart, failover) is replaced, not
    # handed to a write that would then fail once for nothing
    return create_async_engine(settings.url, pool_pre_ping=True)


async def ping(engine: AsyncEngine) -> None:
    """One trivial query: the database answers (the health endpoint's check)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


__all__ = ["build_engine", "ping"]
