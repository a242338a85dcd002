"""The service's logging: one handler on a queue, so writing a line never blocks the event loop.

Every ``switchyard.*`` logger (and uvicorn's error logger) goes through a ``QueueHandler``; a
``QueueListener`` thread writes the lines to stderr. Stopping the listener on shutdown writes
what is still queued, so the last requests' lines are not lost.
"""

from __future__ import annotations

import logging
import queue
import sys
from collections.abc import Iterable
from logging.handlers import QueueHandler, QueueListener

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("debug", "info", "warning", "error")


def configure_logging(level: str) -> QueueListener:
    """Route ``switchyard`` and ``uvicorn`` logs through a queue to stderr at ``level``; the
    caller stops the returned listener at exit."""
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    listener = QueueListener(lines, handler, respect_handler_level=False)
    for name, at in (("switchyard", level), ("uvicorn.error", max(level, "warning", key=_rank))):
        logger = logging.getLogger(name)
        logger.handlers[:] = [QueueHandler(lines)]
        logger.setLevel(at.upper())
        logger.propagate = False
    listener.start()
    return listener


def _rank(level: str) -> int:
    return LEVELS.index(level)


def announce(host: str, port: int, aliases: Iterable[str], providers: Iterable[str]) -> None:
    """The start-up line: where the server listens and what it serves."""
    logging.getLogger("switchyard.server").info(
        "Switchyard listening on http://%s:%d (OpenAI-compatible API at /v1); aliases: %s; "
        "providers: %s",
        f"[{host}]" if ":" in host else host,
        port,
        ", ".join(aliases) or "none",
        ", ".join(providers) or "none",
    )


__all__ = ["LEVELS", "announce", "configure_logging"]
