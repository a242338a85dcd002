"""Deleting what is past its retention, in the background, at most once per ``every`` seconds.

A store calls :meth:`Retention.written` whenever it writes: the first write after ``every``
seconds starts one purge (``DELETE ... WHERE <time> < now - keep``) as a task, off the request
that wrote. No timer of its own: a store nobody writes to gains no rows, and its readers treat
rows older than :meth:`Retention.cutoff` as gone until a write purges them. Replicas may purge
at the same moment; deleting the same expired rows twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger("switchyard.storage")

PURGE_EVERY = 600.0  # seconds between purges of one store


class Retention:
    def __init__(
        self,
        what: str,
        days: float,
        purge: Callable[[datetime], Awaitable[int]],
        every: float = PURGE_EVERY,
    ) -> None:
        self.what = what
        self.keep = timedelta(days=days)
        self._purge = purge
        self.every = every
        self._next = 0.0  # the first write purges
        self._tasks: set[asyncio.Task[None]] = set()

    def cutoff(self) -> datetime:
        """Anything older than this is past its retention."""
        return datetime.now(UTC) - self.keep

    def written(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every
        task = asyncio.get_running_loop().create_task(self._run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        try:
            deleted = await self._purge(self.cutoff())
        except Exception as error:  # the next write tries again after `every`
            log.warning("deleting %s past their retention failed: %s", self.what, error)
            return
        if deleted:
            log.info("deleted %d %s past their retention (%s)", deleted, self.what, self.keep)

    async def aclose(self) -> None:
        """Wait for a purge still running."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


__all__ = ["PURGE_EVERY", "Retention"]
