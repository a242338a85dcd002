"""``responses.retention_days``: a stored response older than that is a 404 at once (in
memory and in the database) and is deleted from the ``responses`` table by the next write's
purge, on SQLite and PostgreSQL; a purge runs at most once per interval and never raises."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from switchyard import Gateway
from switchyard.errors import NotFound
from switchyard.response_store.database import DatabaseResponseStore
from switchyard.response_store.store import MemoryResponseStore, StoredResponse
from switchyard.storage.retention import Retention
from switchyard.types import Principal

ACME = Principal(request_id="r1", tenant="acme")
DAY = 86_400


def stored(response_id: str, age_days: float) -> StoredResponse:
    return StoredResponse(
        id=response_id,
        tenant="acme",
        key_id=None,
        model="smart",
        created_at=int(time.time() - age_days * DAY),
        input_items=b"[]",
        response=b'{"output":[]}',
    )


async def test_in_memory_an_old_response_is_gone() -> None:
    store = MemoryResponseStore(max_stored=10, retention_days=30)
    store.put(stored("old", 31))
    store.put(stored("new", 29))
    with pytest.raises(NotFound):
        await store.get("old", ACME)
    assert (await store.get("new", ACME)).id == "new"
    forever = MemoryResponseStore(max_stored=10)  # retention_days: None
    forever.put(stored("old", 3650))
    assert (await forever.get("old", ACME)).id == "old"


async def test_in_the_database_an_old_response_is_gone_then_deleted(storage_url: str) -> None:
    settings = {
        "storage": {"url": storage_url},
        "providers": {"a": {"type": "fake"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
    }
    async with Gateway.from_config(settings) as gateway:
        assert isinstance(gateway.response_store, DatabaseResponseStore)
        assert gateway.response_store.retention_days == 30  # the default
        engine = gateway.response_store.engine
        keeper = DatabaseResponseStore(engine)  # no retention: writes the old rows as they are
        keeper.put(stored("old", 31))
        keeper.put(stored("young", 29))
        await keeper.aclose()

        store = DatabaseResponseStore(engine, retention_days=30)
        with pytest.raises(NotFound):
            await store.get("old", ACME)  # gone before any purge
        store.put(stored("new", 0))  # the first write purges
        await store.aclose()
        assert (await keeper.get("young", ACME)).id == "young"
        assert (await keeper.get("new", ACME)).id == "new"
        with pytest.raises(NotFound):
            await keeper.get("old", ACME)  # deleted: even a store without retention misses it


async def test_a_purge_runs_at_most_once_per_interval_and_never_raises() -> None:
    calls: list[datetime] = []

    async def purge(cutoff: datetime) -> int:
        calls.append(cutoff)
        if len(calls) == 2:
            raise OSError("database gone")
        return 3

    retention = Retention("things", days=1, purge=purge, every=0.2)
    retention.written()
    retention.written()  # within the interval: no second purge
    await retention.aclose()
    assert len(calls) == 1
    assert abs((datetime.now(calls[0].tzinfo) - calls[0]).total_seconds() - DAY) < 5
    await asyncio.sleep(0.25)
    retention.written()  # the failing purge is logged, not raised
    await retention.aclose()
    retention.written()
    await retention.aclose()
    assert len(calls) == 2
