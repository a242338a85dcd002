"""The end of a drain: streams still open when the deadline comes get an error event.

On SIGTERM the server stops accepting connections and lets in-flight requests finish for
``server.drain_seconds`` (see :mod:`switchyard.server.run`, which calls :meth:`Drain.begin`).
A stream still running at that deadline is cancelled here, in the task that produces its body,
so the stream's generator can catch the cancellation and end the stream with OpenAI's error
event instead of a cut connection. Everything still waiting a moment later is cancelled by the
server itself; the app's guard answers those with a 503 (:mod:`switchyard.server.guard`).
"""

from __future__ import annotations

import asyncio
from typing import Any

_CUT = "switchyard: drain deadline"


class Drain:
    """Tracks the tasks producing stream bodies and cuts them at the drain deadline."""

    def __init__(self) -> None:
        self.begun = False  # shutdown started: not ready any more
        self.over = False  # the deadline passed: open streams were cut
        self._streams: set[asyncio.Task[Any]] = set()
        self._cut: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def begin(self, seconds: float) -> None:
        """Shutdown started: cut the streams still open ``seconds`` from now."""
        if self.begun:
            return
        self.begun = True
        self._timer = asyncio.get_running_loop().call_later(seconds, self.cut)

    def cut(self) -> None:
        self.over = True
        for task in self._streams:
            self._cut.add(task)
            task.cancel(msg=_CUT)

    def enter(self) -> asyncio.Task[Any]:
        """Register the current task as producing a stream body (undo with :meth:`leave`)."""
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        return task

    def leave(self, task: asyncio.Task[Any]) -> None:
        self._streams.discard(task)
        self._cut.discard(task)

    def was_cut(self, task: asyncio.Task[Any]) -> bool:
        """Whether a cancellation of ``task`` came from the deadline; if so it is taken back,
        so the stream may still send its error event."""
        if task not in self._cut:
            return False
        task.uncancel()
        return True


__all__ = ["Drain"]
