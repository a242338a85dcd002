"""``conversations.retention_days``: a session idle for longer is gone at once (404, not
listed, not counted against ``max_sessions``) and is deleted with its messages by the next
write's purge; in memory and on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from switchyard import Gateway
from switchyard.conversations.records import Owner, Session, Turn, now
from switchyard.conversations.sql_store import SqlStore
from switchyard.conversations.store import MemoryStore
from switchyard.errors import Conflict
from switchyard.storage.tables import session_messages, sessions
from switchyard.types import Principal
from tests.conversations.helpers import config

ADA = Owner.of(Principal("r", tenant="acme", user="ada"))


def a_session() -> Session:
    return Session.new(ADA, "roomy", None, {})


async def test_in_memory_an_idle_session_is_gone() -> None:
    store = MemoryStore(capacity=10, retention_days=1)
    idle, fresh = a_session(), a_session()
    await store.create(idle, max_sessions=2)
    await store.create(fresh, max_sessions=2)
    idle.updated_at = now() - timedelta(days=2)
    assert await store.get(ADA, idle.id) is None
    assert [s.id for s in (await store.page(ADA, 10, None)).sessions] == [fresh.id]
    await store.create(a_session(), max_sessions=2)  # the idle one no longer counts
    with pytest.raises(Conflict):
        await store.create(a_session(), max_sessions=2)


async def test_in_the_database_an_idle_session_is_gone_then_deleted(storage_url: str) -> None:
    async with Gateway.from_config(config(storage_url)) as gateway:
        assert gateway.ledger is not None
        engine = gateway.ledger.engine
        store = SqlStore(engine, retention_days=1)
        idle, fresh = a_session(), a_session()
        await store.create(idle, max_sessions=2)
        await store.append(idle, [Turn(role="user", content="hi")], keep=10, summary=None)
        await store.create(fresh, max_sessions=2)
        async with engine.begin() as connection:
            await connection.execute(
                update(sessions)
                .where(sessions.c.id == idle.id)
                .values(updated_at=now() - timedelta(days=2))
            )
        assert await store.get(ADA, idle.id) is None
        assert [s.id for s in (await store.page(ADA, 10, None)).sessions] == [fresh.id]
        await store.aclose()

        later = SqlStore(engine, retention_days=1)  # a replica's first write purges
        await later.create(a_session(), max_sessions=2)  # the idle one does not count
        await later.aclose()
        async with engine.connect() as connection:
            ids = set((await connection.execute(select(sessions.c.id))).scalars())
            turns = await connection.scalar(select(func.count()).select_from(session_messages))
        assert idle.id not in ids and fresh.id in ids and len(ids) == 2
        assert turns == 0

        keeper = SqlStore(engine)  # no retention: nothing is ever past it
        assert await keeper.get(ADA, fresh.id) is not None
