"""The service's logging: lines are written in batches, off the event loop.

Every ``switchyard.*`` logger (and uvicorn's error logger) goes to one
:class:`BatchingHandler`: a record is only appended to a list on the request path; a background
thread formats what has gathered and writes it in one ``write`` every
:data:`FLUSH_SECONDS`. A line per request costs the request a few microseconds, not a thread
wake-up and a system call each (measured: 20-45 µs a line through a plain or queued handler
on the 2-core bench machine, several hundred µs per request under load once thread switches
are counted). Stopping the handler writes what is still pending, so the last requests' lines
are not lost; past :data:`MAX_PENDING` unwritten lines new ones are dropped and counted.

Two formats (``--log-format`` / ``server.log_format``): ``console`` (the default) writes
``time LEVEL logger: message`` lines, the request line in logfmt; ``json`` writes one JSON
object a line (:class:`JsonFormatter`): ``time`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, ``request_id`` and ``trace_id`` (null unless tracing is on) on every line, and
the request line's fields as they are.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal, TextIO, TypeVar

import orjson

from switchyard.records.sinks import current_request_id, current_trace_id

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("console", "json")
LogFormat = Literal["console", "json"]
FLUSH_SECONDS = 0.25
MAX_PENDING = 100_000
T = TypeVar("T")
# a line made later: (when, logger name, render, its argument)
Deferred = tuple[float, str, Callable[[Any], Any], Any]


class BatchingHandler(logging.Handler):
    """Keeps records and writes them, formatted, in batches from its own thread.

    :meth:`defer` is the cheapest way in: a line whose rendering (and the log record itself)
    waits for the writer thread; the per-request log line comes this way
    (:class:`~switchyard.records.sinks.LogSink`)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = FLUSH_SECONDS,
        max_pending: int = MAX_PENDING,
        structured: bool = False,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.structured = structured  # JSON lines; a deferred render then returns the fields
        self.interval = interval
        self.max_pending = max_pending
        self.dropped = 0
        # LogRecords, or (created, logger name, render, item) to turn into one at flush time;
        # deque appends and pops are safe across threads without a lock
        self._pending: deque[logging.LogRecord | Deferred] = deque()
        self._second = -1  # the wall-clock second of the last deferred line, and its text
        self._second_text = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="switchyard-logs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        if self.structured and not hasattr(record, "request_id"):
            # formatted later, on the writer thread: the request's id is taken now
            record.request_id = current_request_id.get()
            record.trace_id = current_trace_id.get()
        self._pending.append(record)

    def defer(self, name: str, render: Callable[[T], Any], item: T) -> None:
        """An INFO line on logger ``name`` whose text is ``render(item)``, made later (with
        ``structured``: ``render(item)`` is the dict of the line's fields)."""
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append((time.time(), name, render, item))

    def flush(self) -> None:
        pending = self._pending
        batch = [pending.popleft() for _ in range(len(pending))]
        dropped, self.dropped = self.dropped, 0
        if not batch and not dropped:
            return
        lines = [self._line(entry) for entry in batch]
        if dropped:
            warning = f"{dropped} log lines dropped (backlog full)"
            lines.append(
                _json_line(time.time(), "WARNING", "switchyard.server", warning, {})
                if self.structured
                else f"WARNING switchyard.server: {warning}"
            )
        try:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # the stream is gone (closed terminal, shut pipe)
            pass

    def _line(self, entry: logging.LogRecord | Deferred) -> str:
        """A record as the formatter writes it; a deferred line in the same layout, made
        without a LogRecord (the second changes rarely: its text is kept)."""
        if isinstance(entry, logging.LogRecord):
            return self.format(entry)
        created, name, render, item = entry
        if self.structured:
            return _json_line(created, "INFO", name, "request", render(item))
        second = int(created)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        msecs = int((created - second) * 1000)
        return f"{self._second_text},{msecs:03d} INFO {name}: {render(item)}"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def close(self) -> None:
        """Stop the thread and write what is still pending."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()
        super().close()


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: the request id and trace id when the record carries
    them (``extra={"request_id": ...}``), its fields (``extra={"fields": {...}}``), and the
    traceback as text under ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = dict(getattr(record, "fields", None) or {})
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            fields.setdefault("request_id", request_id)
        trace_id = getattr(record, "trace_id", None)
        if trace_id is not None:
            fields.setdefault("trace_id", trace_id)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return _json_line(
            record.created, record.levelname, record.name, record.getMessage(), fields
        )


def _json_line(
    created: float, level: str, logger: str, message: str, fields: dict[str, Any]
) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    line: dict[str, Any] = {
        "time": f"{stamp}.{int((created % 1) * 1000):03d}Z",
        "level": level,
        "logger": logger,
        "message": message,
        "request_id": None,
        "trace_id": None,
    }
    line.update(fields)
    return orjson.dumps(line, default=str).decode()


def configure_logging(
    level: str, stream: TextIO | None = None, log_format: LogFormat = "console"
) -> BatchingHandler:
    """Send ``switchyard`` (at ``level``) and ``uvicorn`` (at warning or above) logs to
    ``stream`` (stderr) through one batching handler, as ``log_format`` says; the caller
    closes it at exit."""
    structured = log_format == "json"
    handler = BatchingHandler(stream or sys.stderr, structured=structured)
    handler.setFormatter(JsonFormatter() if structured else logging.Formatter(FORMAT))
    for name, at in (("switchyard", level), ("uvicorn.error", max(level, "warning", key=_rank))):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(at.upper())
        logger.propagate = False
    handler.start()
    return handler


def _rank(level: str) -> int:
    return LEVELS.index(level)


def announce(
    scheme: str, host: str, port: int, aliases: Iterable[str], providers: Iterable[str]
) -> None:
    """The start-up line: where the server listens and what it serves."""
    logging.getLogger("switchyard.server").info(
        "Switchyard listening on %s://%s:%d (OpenAI-compatible API at /v1); aliases: %s; "
        "providers: %s",
        scheme,
        f"[{host}]" if ":" in host else host,
        port,
        ", ".join(aliases) or "none",
        ", ".join(providers) or "none",
    )


__all__ = [
    "FLUSH_SECONDS",
    "FORMATS",
    "LEVELS",
    "BatchingHandler",
    "JsonFormatter",
    "LogFormat",
    "announce",
    "configure_logging",
]
