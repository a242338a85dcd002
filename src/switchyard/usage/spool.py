"""The ledger's spool: every usage row queued for the database is first appended to a local
file, so a process killed outright (SIGKILL, the out-of-memory killer) loses only the rows of
the requests it had in flight, not the ones still waiting in the ledger's queue.

Layout, in one directory per database (see :func:`spool_directory`), shared by the workers
and replicas of one host:

- ``<owner>.lock``: held with ``flock`` by the live process ``<owner>`` for its whole life; the
  kernel lets go of it when the process dies, however it dies;
- ``<owner>.<segment>.jsonl``: its rows, one JSON line per request, in segments of
  ``SEGMENT_ROWS`` lines. A segment is deleted once every row in it has been committed.

A ledger that finds a lock nobody holds (at start, then every ``SWEEP_SECONDS``) takes the
dead owner's segments over and writes them again; the rows keep the ids they were given at
first, so a row that had already been committed is skipped by the database (``ON CONFLICT DO
NOTHING``), never doubled.

Appending is one ``os.write`` per request into the page cache (a few microseconds), which
survives the process, not the machine: a power loss can still take the last rows.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("switchyard.usage")

SEGMENT_ROWS = 1000  # lines per segment file before the next one starts
SWEEP_SECONDS = 5.0  # how often a live ledger looks for a dead one's spool
_DECIMALS = ("cost_usd", "cost_saved_usd")

Rows = tuple[dict[str, Any], list[dict[str, Any]]]  # one request's usage row and attempt rows


def spool_directory(url: str, configured: str | None) -> Path:
    """``configured``, or ``$XDG_STATE_HOME/switchyard/spool/<database>`` (by default under
    ``~/.local/state``), ``<database>`` being a digest of the URL: every process writing to
    one database on this host shares one spool, and two databases never mix."""
    if configured is not None:
        return Path(configured).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(state) / "switchyard" / "spool" / digest


def encode(rows: Rows) -> bytes:
    return orjson.dumps(rows, default=_decimal) + b"\n"


def decode(line: bytes) -> Rows:
    usage_row, attempts = orjson.loads(line)
    usage_row["created_at"] = datetime.fromisoformat(usage_row["created_at"])
    for name in _DECIMALS:
        if usage_row.get(name) is not None:
            usage_row[name] = Decimal(usage_row[name])
    return usage_row, attempts


def _decimal(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


@dataclass
class Orphan:
    """A dead owner's spool, locked by the ledger that took it over until :meth:`done`."""

    lock: Path
    segments: list[Path]
    _fd: int = field(repr=False)

    def rows(self) -> Iterator[Rows]:
        for segment in self.segments:
            for line in segment.read_bytes().splitlines():
                if line.strip():
                    try:
                        yield decode(line)
                    except (ValueError, TypeError, KeyError):  # a line cut short by the kill
                        log.warning("spool %s: an unreadable line skipped", segment.name)

    def done(self) -> None:
        for segment in self.segments:
            segment.unlink(missing_ok=True)
        self.lock.unlink(missing_ok=True)
        os.close(self._fd)


class Spool:
    """One process's spool (see the module's doc). Never raises on the request path: a spool
    that cannot be written is switched off with one warning, and the ledger goes on."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.owner = f"{os.getpid()}-{os.urandom(4).hex()}"
        self.segment = 0
        self.pending: dict[int, int] = {}  # segment -> rows not yet committed
        self._lines = 0
        self._fd: int | None = None
        self._lock_fd: int | None = None

    @property
    def on(self) -> bool:
        return self._fd is not None

    def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # locked under another name first, so no sweeper ever sees an unlocked new lock
            making = self.directory / f"{self.owner}.locking"
            self._lock_fd = os.open(making, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            making.rename(self.directory / f"{self.owner}.lock")
            self._start_segment()
        except OSError as exc:
            self._off(exc)

    def append(self, rows: Rows) -> int:
        """Write one request's rows; the segment they went to (-1 when the spool is off)."""
        if self._fd is None:
            return -1
        if self._lines >= SEGMENT_ROWS:
            self._next_segment()
            if self._fd is None:
                return -1
        try:
            os.write(self._fd, encode(rows))
        except OSError as exc:
            self._off(exc)
            return -1
        self._lines += 1
        self.pending[self.segment] = self.pending.get(self.segment, 0) + 1
        return self.segment

    def committed(self, segments: list[int]) -> None:
        """These rows (by segment) are in the database: a finished segment is deleted."""
        for segment in segments:
            if segment < 0:
                continue
            left = self.pending[segment] - 1
            if left:
                self.pending[segment] = left
                continue
            del self.pending[segment]
            if segment != self.segment:
                self._path(segment).unlink(missing_ok=True)

    def orphans(self) -> Iterator[Orphan]:
        """The spools of owners that died: each locked for the caller until it is done."""
        try:
            locks = sorted(self.directory.glob("*.lock"))
        except OSError:
            return
        for lock in locks:
            owner = lock.name.removesuffix(".lock")
            if owner == self.owner:
                continue
            try:
                fd = os.open(lock, os.O_RDWR)
            except FileNotFoundError:  # another ledger took it over and finished
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    continue  # alive, or being taken over by another ledger
                raise
            if not lock.exists():  # finished by another ledger between the glob and the lock
                os.close(fd)
                continue
            segments = sorted(
                self.directory.glob(f"{owner}.*.jsonl"),
                key=lambda path: int(path.name.split(".")[-2]),
            )
            yield Orphan(lock, segments, fd)

    def close(self) -> None:
        """Everything was written: the spool is removed (and its directory, when empty)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        for segment in self.directory.glob(f"{self.owner}.*.jsonl"):
            segment.unlink(missing_ok=True)
        if self._lock_fd is not None:
            (self.directory / f"{self.owner}.lock").unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None
        try:
            self.directory.rmdir()
        except OSError:
            pass  # another process's spool is still there

    def _path(self, segment: int) -> Path:
        return self.directory / f"{self.owner}.{segment}.jsonl"

    def _start_segment(self) -> None:
        self._fd = os.open(
            self._path(self.segment), os.O_CREAT | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC, 0o600
        )
        self._lines = 0

    def _next_segment(self) -> None:
        assert self._fd is not None
        os.close(self._fd)
        if self.segment not in self.pending:  # all committed already
            self._path(self.segment).unlink(missing_ok=True)
        self.segment += 1
        try:
            self._start_segment()
        except OSError as exc:
            self._off(exc)

    def _off(self, exc: OSError) -> None:
        log.warning(
            "usage spool at %s switched off (%s): a killed process will lose its queued rows",
            self.directory,
            exc,
        )
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None


__all__ = ["Orphan", "Rows", "Spool", "spool_directory"]
