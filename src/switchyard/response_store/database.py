"""The response store in the ``storage`` database (table ``responses``), shared by replicas.

A ``put`` starts its write at once and keeps the response in memory until the write has
landed, so a continuation sent right after the answer finds it on this replica; on another
replica it is there once the write commits (milliseconds). ``aclose`` waits for the writes
still running. A failed write is logged, never raised into the request it came from.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from switchyard.response_store.store import ResponseStore, StoredResponse
from switchyard.storage.retention import Retention
from switchyard.storage.tables import responses

log = logging.getLogger("switchyard.response_store")


class DatabaseResponseStore(ResponseStore):
    def __init__(self, engine: AsyncEngine, retention_days: float | None = None) -> None:
        self.engine = engine
        self.retention_days = retention_days
        self._retention = None
        if retention_days is not None:
            self._retention = Retention("stored responses", retention_days, self._purge)
        self._pending: dict[str, StoredResponse] = {}
        self._writes: set[asyncio.Task[None]] = set()

    def put(self, stored: StoredResponse) -> None:
        self._pending[stored.id] = stored
        task = asyncio.get_running_loop().create_task(self._write(stored))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        if self._retention is not None:
            self._retention.written()

    async def _purge(self, cutoff: datetime) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(responses).where(responses.c.created_at < cutoff)
            )
        return int(result.rowcount or 0)

    async def _write(self, stored: StoredResponse) -> None:
        row = {
            "id": stored.id,
            "tenant": stored.tenant,
            "key_id": stored.key_id,
            "model": stored.model[:255],
            "created_at": datetime.fromtimestamp(stored.created_at, UTC),
            "input_items": stored.input_items.decode(),
            "response": stored.response.decode(),
        }
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(responses).values(row))
        except Exception:
            log.exception("storing response %s failed", stored.id)
        finally:
            if self._pending.get(stored.id) is stored:
                del self._pending[stored.id]

    async def _load(self, response_id: str) -> StoredResponse | None:
        pending = self._pending.get(response_id)
        if pending is not None:
            return pending
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(responses).where(responses.c.id == response_id))
            ).first()
        if row is None:
            return None
        return StoredResponse(
            id=row.id,
            tenant=row.tenant,
            key_id=row.key_id,
            model=row.model,
            created_at=int(row.created_at.timestamp()),
            input_items=row.input_items.encode(),
            response=row.response.encode(),
        )

    async def _remove(self, response_id: str) -> None:
        if self._writes:  # a write still running would bring it back
            await asyncio.gather(*self._writes, return_exceptions=True)
        async with self.engine.begin() as connection:
            await connection.execute(delete(responses).where(responses.c.id == response_id))

    async def aclose(self) -> None:
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        if self._retention is not None:
            await self._retention.aclose()


__all__ = ["DatabaseResponseStore"]
