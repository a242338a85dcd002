"""The async engine for ``storage.url``, and what every store on it shares: a transaction
whose failure is :class:`~switchyard.errors.StorageUnavailable` (503), never a stray
SQLAlchemy error, and timestamps with their zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import overload

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from switchyard.errors import StorageUnavailable
from switchyard.storage.settings import StorageSettings


def build_engine(settings: StorageSettings) -> AsyncEngine:
    # pre-ping: a pooled connection the database closed (restart, failover) is replaced, not
    # handed to a write that would then fail once for nothing
    return create_async_engine(settings.url, pool_pre_ping=True)


async def ping(engine: AsyncEngine) -> None:
    """One trivial query: the database answers (the health endpoint's check)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@asynccontextmanager
async def transaction(engine: AsyncEngine, what: str) -> AsyncIterator[AsyncConnection]:
    """One transaction on ``engine``. A database that does not answer is
    :class:`~switchyard.errors.StorageUnavailable` (503) naming ``what`` ("the key database"),
    never a stray SQLAlchemy error; an ``IntegrityError`` (a duplicate) is the caller's to
    read."""
    try:
        async with engine.begin() as connection:
            yield connection
    except IntegrityError:
        raise
    except (SQLAlchemyError, OSError) as exc:
        raise StorageUnavailable(f"{what} did not answer ({type(exc).__name__})") from None


@overload
def aware(moment: datetime) -> datetime: ...


@overload
def aware(moment: None) -> None: ...


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


__all__ = ["aware", "build_engine", "ping", "transaction"]
