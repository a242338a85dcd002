"""The event publisher: a record sink (``request_completed`` / ``failure``) and the Gateway's
start hook (``request_started``), publishing off the request path.

On the request path, :meth:`EventPublisher.emit` and :meth:`EventPublisher.started` encode the
event (a few microseconds: JSON bytes, see :mod:`switchyard.events.envelope`) and put it on a
bounded queue; nothing is awaited. Encoding there, not later, keeps no record alive while it
waits: a queue of records outlives the garbage collector's young generation, and collecting
them cost more than encoding. A full queue drops the event (counted, logged at most every
``WARN_EVERY`` seconds), never blocks.
``publishers`` background tasks take the events off the queue in batches (what gathered within
:data:`LINGER` of the first), build the envelopes, connect when needed and publish; a failed
connect or publish is tried again ``retries`` times with doubling backoff, then dropped and
counted. Drops of both kinds are ``dropped``, which the Gateway's
metrics show as ``llm_queue_dropped_total{queue="events"}`` (and ``llm_queue_depth``).
:meth:`EventPublisher.aclose` lets the queue drain for ``flush_seconds`` at most, then counts
what is left as dropped and closes the connection.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from switchyard.events.brokers import EventBroker, Message, build_broker
from switchyard.events.envelope import (
    Started,
    encode,
    ended_data,
    ended_name,
    envelope,
    started_data,
)
from switchyard.events.settings import EventName, EventsSettings
from switchyard.records.record import RequestRecord

if TYPE_CHECKING:
    from switchyard.records.metrics import Metrics

log = logging.getLogger("switchyard.events")

QUEUE = "events"  # the queue label of llm_queue_depth / llm_queue_dropped_total
WARN_EVERY = 10.0  # seconds between two warnings about the same trouble
MAX_BACKOFF = 30.0
BATCH = 100  # events one publisher sends at once, at most (those that waited together)
# how long a publisher lets a batch gather after its first event: one wake-up and one write to
# the broker per batch instead of per event (at 1,000 requests/s, about 20 events a batch)
LINGER = 0.01


class EventPublisher:
    def __init__(
        self,
        settings: EventsSettings,
        *,
        metrics: Metrics | None = None,
        broker: EventBroker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.broker = broker or build_broker(settings)
        self.published = 0  # events the broker accepted
        self.dropped = 0  # events refused by a full queue, or given up after the retries
        self.retries = 0  # connects and publishes tried again
        # plain tuples (topic, body, key, id): of strings and bytes only, so the collector
        # stops tracking them at its first pass
        self._queue: asyncio.Queue[tuple[str, bytes, str, str]] = asyncio.Queue(settings.queue_size)
        enabled = settings.enabled
        self._started_on = "request_started" in enabled
        self._completed_on = "request_completed" in enabled
        self._failure_on = "failure" in enabled
        self._topics = {name: settings.topic(name) for name in enabled}
        self._tasks: list[asyncio.Task[None]] = []
        # event ids: unique to this publisher (a random prefix), then a counter
        self._id_prefix = f"{uuid.uuid4().hex}-"
        self._ids = itertools.count(1)
        self._connected = False
        self._closing = False  # flushing: no lingering
        self._connecting = asyncio.Lock()
        self._sleep = sleep
        self._warned: dict[str, float] = {}
        self._drops: Any = None  # the events child of llm_queue_dropped_total
        if metrics is not None:
            metrics.queue_depth.labels(QUEUE).set_function(lambda: self._queue.qsize())
            self._drops = metrics.queue_dropped.labels(QUEUE)

    # -- the request path -------------------------------------------------------------------

    def started(self, record: RequestRecord) -> None:
        """The Gateway's start hook: ``request_started``, from what is known so far."""
        if self._started_on:
            self._put(Started(record.principal, record.kind, record.alias, record.started_at))

    def emit(self, record: RequestRecord) -> None:
        """The record sink: ``request_completed`` or ``failure``, as the record ended."""
        if self._completed_on if record.status == "success" else self._failure_on:
            self._put(record)

    def _put(self, item: Started | RequestRecord) -> None:
        queue = self._queue
        if queue.full():
            self._drop(f"queue full ({queue.maxsize} events)")
            return
        try:
            message = self._message(item)
        except Exception:  # a bug in building an event never fails the request
            log.exception("events: could not build an event")
            self._drop("an event could not be built", warn=False)
            return
        queue.put_nowait(message)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the publishing tasks (they connect on their first event: a broker that is
        down never delays the gateway's start)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name=f"events-publisher-{i}")
                for i in range(self.settings.publishers)
            ]

    async def aclose(self) -> None:
        """Publish what is queued (``flush_seconds`` at most), then close the connection."""
        if not self._tasks and not self._queue.empty():
            await self.start()  # a gateway used without start(): its events still go out
        tasks, self._tasks = self._tasks, []
        self._closing = True
        if tasks:
            try:
                async with asyncio.timeout(self.settings.flush_seconds):
                    await self._queue.join()
            except TimeoutError:
                pass
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        left = self._queue.qsize()
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()
        if left:
            self._drop(f"{left} events still queued at shutdown", count=left)
        if self._connected:
            self._connected = False
            try:
                await self.broker.close()
            except Exception as exc:  # closing a broken connection: nothing more to lose
                log.debug("events broker close failed: %s", type(exc).__name__)

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def check(self, within: float) -> float:
        """Milliseconds the broker took to answer a ping (connecting first when needed);
        raises when it cannot be reached within ``within`` seconds."""
        started = time.perf_counter()
        async with asyncio.timeout(within):
            await self._connect()
            if not await self.broker.ping(within):
                raise ConnectionError("the events broker did not answer")
        return (time.perf_counter() - started) * 1000.0

    # -- the publishers ---------------------------------------------------------------------

    async def _run(self) -> None:
        queue = self._queue
        while True:
            items = [await queue.get()]
            if queue.qsize() < BATCH and not self._closing:
                await asyncio.sleep(LINGER)
            while len(items) < BATCH and not queue.empty():  # what waited together goes together
                items.append(queue.get_nowait())
            try:
                await self._publish([Message(*item) for item in items])
            except asyncio.CancelledError:  # closing, past flush_seconds: these are lost
                self._drop("cancelled at shutdown", count=len(items), warn=False)
                raise
            except Exception:  # a bug: log it, keep publishing
                log.exception("events: could not publish")
                self._drop("an error in the publisher", count=len(items), warn=False)
            finally:
                for _ in items:
                    queue.task_done()

    async def _publish(self, messages: list[Message]) -> None:
        pending: Sequence[Message] = messages
        settings = self.settings
        delay = settings.backoff_seconds
        for attempt in range(settings.retries + 1):
            if attempt:
                self.retries += 1
                await self._sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            try:
                if not self._connected:
                    async with asyncio.timeout(settings.publish_timeout_seconds):
                        await self._connect()
                # each broker bounds its sends (publish_timeout_seconds); this is the backstop
                async with asyncio.timeout(settings.publish_timeout_seconds * 4):
                    failed = await self.broker.publish(pending)
            except Exception as exc:  # the broker's errors, or the timeout
                error = type(exc).__name__  # never the message: it may carry the URL
                self._warn("publish", "events: publishing failed (%s); retrying", error)
                continue
            self.published += len(pending) - len(failed)
            if not failed:
                return
            pending = failed  # only those are tried again
            self._warn("publish", "events: %d events not accepted; retrying", len(failed))
        tries = settings.retries + 1
        self._drop(f"{len(pending)} events not published after {tries} tries", count=len(pending))

    def _message(self, item: Started | RequestRecord) -> tuple[str, bytes, str, str]:
        name: EventName
        if isinstance(item, Started):
            name, at, data = "request_started", item.started_at, started_data(item)
        else:
            name = ended_name(item)
            at, data = item.started_at + item.latency_ms / 1000.0, ended_data(item)
        event_id = f"{self._id_prefix}{next(self._ids):x}"
        body = encode(envelope(name, event_id, self.settings.source, at, data))
        return (self._topics[name], body, data["request_id"], event_id)

    async def _connect(self) -> None:
        async with self._connecting:
            if self._connected:
                return
            try:
                await self.broker.connect()
            except BaseException:
                try:  # a half-open connection is closed, so the next try starts afresh
                    await self.broker.close()
                except Exception:
                    pass
                raise
            self._connected = True

    # -- drops ------------------------------------------------------------------------------

    def _drop(self, why: str, *, count: int = 1, warn: bool = True) -> None:
        self.dropped += count
        if self._drops is not None:
            self._drops.inc(count)
        if warn:
            self._warn("drop", "events: %s; %d events dropped so far", why, self.dropped)

    def _warn(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._warned.get(kind, 0.0) >= WARN_EVERY:
            self._warned[kind] = now
            log.warning(message, *args)


__all__ = ["QUEUE", "EventPublisher"]
