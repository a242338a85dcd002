"""The async engine for ``storage.url``, and the transactions the stores run in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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


__all__ = ["build_engine", "ping", "transaction"]
