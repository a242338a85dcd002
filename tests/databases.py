"""Real databases for the ledger, keys and tenants: a SQLite file in ``tmp_path`` and a
throwaway PostgreSQL database on 127.0.0.1:5432 (created for the test, dropped after it).

PostgreSQL not running: skipped on a developer's machine (run ``bash .ci/services.sh``), a
failure in CI (``CI=true``).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from switchyard.records.record import RequestRecord
from switchyard.storage.migrate import upgrade
from switchyard.storage.tables import usage, usage_attempts
from switchyard.types import Principal
from tests.services import missing

HOST = os.environ.get("SWITCHYARD_TEST_POSTGRES_HOST", "127.0.0.1:5432")
USERS = ("postgres", "root")


async def _admin() -> tuple[asyncpg.Connection, str]:
    problem: BaseException | None = None
    for user in USERS:
        try:
            return await asyncpg.connect(f"postgresql://{user}@{HOST}/postgres", timeout=3), user
        except (OSError, asyncpg.PostgresError) as exc:
            problem = exc
    missing(f"PostgreSQL is not reachable at {HOST} ({problem}); run `bash .ci/services.sh`")


async def _create() -> str:
    admin, user = await _admin()
    name = f"switchyard_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{user}@{HOST}/{name}"


async def _drop(url: str) -> None:
    admin, _ = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database of this test's own (its schema is behind)."""
    url = asyncio.run(_create())
    yield url
    asyncio.run(_drop(url))


async def _upgrade(url: str) -> None:
    engine = create_async_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def postgres_url(empty_postgres_url: str) -> str:
    """A PostgreSQL database of this test's own, migrated (``switchyard db upgrade``)."""
    asyncio.run(_upgrade(empty_postgres_url))
    return empty_postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest) -> str:
    """Each ledger test runs on both databases."""
    return str(request.getfixturevalue(f"{request.param}_url"))


async def read_usage(url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every usage row (oldest first) and every attempt row, as dicts."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(usage).order_by(usage.c.created_at))).all()
            attempts = (await connection.execute(select(usage_attempts))).all()
    finally:
        await engine.dispose()
    return [dict(r._mapping) for r in rows], [dict(a._mapping) for a in attempts]


def a_record(request_id: str = "r") -> RequestRecord:
    return RequestRecord(
        principal=Principal(request_id),
        kind="chat",
        alias="smart",
        started_at=time.time(),
        started=0.0,
    )
