"""Alembic, configured in code (no alembic.ini): the migrations ship inside the package.

SQLite (the embedded default) is brought up to date on start; a PostgreSQL schema that is behind
stops the start, naming ``switchyard db upgrade``, because a shared database is migrated once, on
purpose, not by whichever replica starts first.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaBehind(RuntimeError):
    """The database's schema is older than this version's."""


def _alembic(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str | None:
    return ScriptDirectory.from_config(_alembic()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every migration the database has not seen (``switchyard db upgrade``)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(_alembic(c), "head"))


async def current(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def ensure_schema(engine: AsyncEngine) -> None:
    """On start: migrate SQLite; refuse a PostgreSQL schema that is behind."""
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
        return
    at, needed = await current(engine), head()
    if at != needed:
        raise SchemaBehind(
            f"the usage database schema is at revision {at or 'none (empty database)'}, this "
            f"version needs {needed}: run `switchyard db upgrade` first"
        )


__all__ = ["MIGRATIONS", "SchemaBehind", "current", "ensure_schema", "head", "upgrade"]
