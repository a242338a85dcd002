"""The usage ledger: a record sink that writes one ``usage`` row per request, in batches.

``emit`` (on the request path) only puts the record on a bounded queue. A background task takes
up to ``batch_size`` records every ``flush_seconds`` (or as soon as a batch is full) and writes
them in one transaction. A batch that fails is retried with exponential backoff until it is
written, never dropped; meanwhile new records keep queueing. A write is shielded from
cancellation, and :meth:`UsageLedger.aclose` returns only once everything queued is written.
When the queue is full, a new request first waits up to ``full_wait_seconds`` for the writer to
make room (:meth:`UsageLedger.wait_for_room`, called by the Gateway before it routes); if there
is still none when its record comes, the record is not written: it is counted in ``dropped``
and logged (one WARNING per ``WARN_EVERY`` seconds at most). A request is never failed.

With ``storage.spool`` (the default) each queued row is also appended to a local file
(:mod:`switchyard.usage.spool`) and the spool of a process that died before writing its queue
is written by the next ledger on the host, so a kill loses only the requests in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from switchyard.records.record import RequestRecord
from switchyard.storage.engine import build_engine
from switchyard.storage.migrate import ensure_schema
from switchyard.storage.settings import StorageSettings
from switchyard.storage.tables import usage, usage_attempts
from switchyard.usage.rows import record_rows
from switchyard.usage.spool import SWEEP_SECONDS, Rows, Spool, spool_directory

log = logging.getLogger("switchyard.usage")

WARN_EVERY = 10.0  # seconds between two warnings about the same trouble
FIRST_BACKOFF, MAX_BACKOFF = 0.1, 30.0

Queued = tuple[dict[str, Any], list[dict[str, Any]], int]  # the rows, and their spool segment


class UsageLedger:
    def __init__(
        self,
        settings: StorageSettings,
        *,
        engine: AsyncEngine | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.engine = engine or build_engine(settings)
        self.written = 0  # rows committed
        self.dropped = 0  # records refused by a full queue
        self.retries = 0  # batch writes that failed and were tried again
        self._queue: asyncio.Queue[Queued] = asyncio.Queue(settings.queue_size)
        self._batch_size = settings.batch_size
        self._full = asyncio.Event()  # a batch is waiting, or we are closing: write now
        self._room = asyncio.Event()  # the writer took records off a full queue
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._sleep = sleep
        self._warned_drop = 0.0
        self.spool: Spool | None = None
        if settings.spool and ":memory:" not in settings.url:
            self.spool = Spool(spool_directory(settings.url, settings.spool_dir))
        self.recovered = 0  # rows taken over from the spool of a process that died

    # -- the request path -------------------------------------------------------------------

    def emit(self, record: RequestRecord) -> None:
        if self._queue.full():
            self.dropped += 1
            now = time.monotonic()
            if now - self._warned_drop >= WARN_EVERY:
                self._warned_drop = now
                log.warning(
                    "usage queue full (%d records): %d usage records dropped so far",
                    self._queue.maxsize,
                    self.dropped,
                )
            return
        usage_row, attempts = rows = record_rows(record)
        segment = self.spool.append(rows) if self.spool is not None else -1
        self._queue.put_nowait((usage_row, attempts, segment))
        if self._queue.qsize() >= self._batch_size:
            self._full.set()

    @property
    def full(self) -> bool:
        return self._queue.full()

    async def wait_for_room(self) -> None:
        """Back-pressure: while the queue is full, wait (at most ``full_wait_seconds``) for the
        writer to take a batch off it."""
        if self._queue.full():
            self._room.clear()
            try:
                await asyncio.wait_for(self._room.wait(), self.settings.full_wait_seconds)
            except TimeoutError:
                pass

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bring the schema up to date (SQLite) or check it is (PostgreSQL), then write."""
        if self._task is None:
            await ensure_schema(self.engine)
            if self.spool is not None and not self.spool.on:
                self.spool.open()
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="usage-ledger")

    async def aclose(self) -> None:
        """Write everything queued, then close the engine."""
        if self._task is not None:
            self._closing = True
            self._full.set()
            task, self._task = self._task, None
            await task
            if self.spool is not None:
                await self._take_over_orphans()  # one that died while we were closing
                self.spool.close()
        await self.engine.dispose()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # -- the writer -------------------------------------------------------------------------

    async def _run(self) -> None:
        swept = -SWEEP_SECONDS
        while True:
            if self.spool is not None and time.monotonic() - swept >= SWEEP_SECONDS:
                swept = time.monotonic()
                await self._take_over_orphans()
            if not self._closing and self._queue.qsize() < self._batch_size:
                try:
                    await asyncio.wait_for(self._full.wait(), self.settings.flush_seconds)
                except TimeoutError:
                    pass
            self._full.clear()
            while not self._queue.empty():
                batch = [self._queue.get_nowait()]
                while len(batch) < self._batch_size and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                self._room.set()
                # a cancelled ledger task (a loop shutting down) still finishes this batch
                await asyncio.shield(self._write(batch))
            if self._closing:
                return

    async def _write(self, batch: list[Queued]) -> None:
        usages = [usage_row for usage_row, _, _ in batch]
        attempts = [row for _, attempts_of, _ in batch for row in attempts_of]
        await self._insert(usages, attempts, insert)
        self.written += len(batch)
        if self.spool is not None:
            self.spool.committed([segment for _, _, segment in batch])

    async def _take_over_orphans(self) -> None:
        """Write the rows a dead process left in the spool; ones it had committed are skipped."""
        assert self.spool is not None
        for orphan in self.spool.orphans():
            batch: list[Rows] = []
            for rows in orphan.rows():
                batch.append(rows)
                if len(batch) == self._batch_size:
                    await self._recover(batch)
                    batch = []
            if batch:
                await self._recover(batch)
            orphan.done()

    async def _recover(self, batch: list[Rows]) -> None:
        usages = [usage_row for usage_row, _ in batch]
        attempts = [row for _, attempts_of in batch for row in attempts_of]
        await asyncio.shield(self._insert(usages, attempts, self._insert_new))
        self.recovered += len(batch)
        log.warning("usage: %d rows of a process that died written from the spool", len(batch))

    def _insert_new(self, table: Table) -> Insert:
        """An insert that skips rows already there (by primary key)."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    async def _insert(
        self,
        usages: list[dict[str, Any]],
        attempts: list[dict[str, Any]],
        statement: Callable[[Table], Insert],
    ) -> None:
        delay, warned = FIRST_BACKOFF, 0.0
        while True:
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(statement(usage), usages)
                    if attempts:
                        await connection.execute(statement(usage_attempts), attempts)
            except (SQLAlchemyError, OSError) as exc:
                self.retries += 1
                now = time.monotonic()
                if now - warned >= WARN_EVERY:
                    warned = now
                    log.warning(
                        "usage write of %d rows failed (%s); retrying in %.1fs, %d queued",
                        len(usages),
                        type(exc).__name__,
                        delay,
                        self._queue.qsize(),
                    )
                await self._sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            return


__all__ = ["UsageLedger"]
