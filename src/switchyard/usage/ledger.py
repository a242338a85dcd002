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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from switchyard.records.record import RequestRecord
from switchyard.storage.engine import build_engine
from switchyard.storage.migrate import ensure_schema
from switchyard.storage.settings import StorageSettings
from switchyard.storage.tables import usage, usage_attempts
from switchyard.usage.rows import rows

log = logging.getLogger("switchyard.usage")

WARN_EVERY = 10.0  # seconds between two warnings about the same trouble
FIRST_BACKOFF, MAX_BACKOFF = 0.1, 30.0


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
        self._queue: asyncio.Queue[RequestRecord] = asyncio.Queue(settings.queue_size)
        self._batch_size = settings.batch_size
        self._full = asyncio.Event()  # a batch is waiting, or we are closing: write now
        self._room = asyncio.Event()  # the writer took records off a full queue
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._sleep = sleep
        self._warned_drop = 0.0

    # -- the request path -------------------------------------------------------------------

    def emit(self, record: RequestRecord) -> None:
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
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
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="usage-ledger")

    async def aclose(self) -> None:
        """Write everything queued, then close the engine."""
        if self._task is not None:
            self._closing = True
            self._full.set()
            task, self._task = self._task, None
            await task
        await self.engine.dispose()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # -- the writer -------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
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

    async def _write(self, batch: list[RequestRecord]) -> None:
        delay, warned = FIRST_BACKOFF, 0.0
        while True:
            usages, attempts = rows(batch)
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(insert(usage), usages)
                    if attempts:
                        await connection.execute(insert(usage_attempts), attempts)
            except (SQLAlchemyError, OSError) as exc:
                self.retries += 1
                now = time.monotonic()
                if now - warned >= WARN_EVERY:
                    warned = now
                    log.warning(
                        "usage write of %d rows failed (%s); retrying in %.1fs, %d queued",
                        len(batch),
                        type(exc).__name__,
                        delay,
                        self._queue.qsize(),
                    )
                await self._sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            self.written += len(batch)
            return


__all__ = ["UsageLedger"]
