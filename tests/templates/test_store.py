"""The admin API's templates in the database, on SQLite and PostgreSQL: append-only versions
(concurrent writers of one name each get their own), the latest of each name, the bound on
versions, and migration 0005."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchyard.errors import Conflict
from switchyard.storage.migrate import _alembic, current, head, upgrade
from switchyard.templates.settings import TemplateSpec
from switchyard.templates.store import TemplateStore


@pytest.fixture
async def engine(storage_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(storage_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def spec(name: str, text: str) -> TemplateSpec:
    return TemplateSpec(name=name, template=text, description=f"says {text}")


async def test_versions_are_appended_and_read_back(engine: AsyncEngine) -> None:
    store = TemplateStore(engine)
    assert await store.get("greet") is None
    first = await store.add(spec("greet", "hi {{ who }}"), max_versions=10)
    second = await store.add(spec("greet", "hello {{ who }}"), max_versions=10)
    await store.add(spec("bye", "bye"), max_versions=10)
    assert (first.version, second.version) == (1, 2)
    latest = await store.get("greet")
    assert latest is not None and latest.version == 2
    assert latest.messages[0].content == "hello {{ who }}"
    assert latest.variables == ("who",) and latest.source == "api"
    assert latest.created_at is not None and latest.created_at.tzinfo is not None
    old = await store.get("greet", 1)
    assert old is not None and old.messages[0].content == "hi {{ who }}"
    assert old.description == "says hi {{ who }}"
    assert [v.version for v in await store.versions("greet")] == [1, 2]
    assert [(t.name, t.version) for t in await store.latest()] == [("bye", 1), ("greet", 2)]


async def test_concurrent_writers_of_one_name_each_get_a_version(engine: AsyncEngine) -> None:
    stores = [TemplateStore(engine) for _ in range(4)]
    made = await asyncio.gather(
        *(s.add(spec("busy", f"text {i}"), max_versions=100) for i, s in enumerate(stores))
    )
    assert sorted(m.version for m in made) == [1, 2, 3, 4]
    kept = {v.messages[0].content for v in await stores[0].versions("busy")}
    assert kept == {f"text {i}" for i in range(4)}


async def test_versions_past_the_bound_are_refused(engine: AsyncEngine) -> None:
    store = TemplateStore(engine)
    for _ in range(2):
        await store.add(spec("bounded", "x"), max_versions=2)
    with pytest.raises(Conflict) as caught:
        await store.add(spec("bounded", "x"), max_versions=2)
    assert caught.value.status_code == 409 and caught.value.param == "name"


async def test_migration_0005_adds_and_removes_the_table(sqlite_url: str) -> None:
    engine = create_async_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(_alembic(c), "0003"))
        await upgrade(engine)
        assert await current(engine) == head()
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert "prompt_templates" in tables
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.downgrade(_alembic(c), "0004"))
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert "prompt_templates" not in tables and "usage" in tables
    finally:
        await engine.dispose()
