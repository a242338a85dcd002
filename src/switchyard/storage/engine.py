"""The async engine for ``storage.url``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchyard.storage.settings import StorageSettings


def build_engine(settings: StorageSettings) -> AsyncEngine:
    # pre-ping: a pooled connection the database closed (restart, failover) is replaced, not
    # handed to a write that would then fail once for nothing
    return create_async_engine(settings.url, pool_pre_ping=True)


__all__ = ["build_engine"]
