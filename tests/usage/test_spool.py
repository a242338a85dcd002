"""The ledger's spool: rows queued by a process that is killed outright are written by the
next ledger on the host, once each, on real SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from switchyard.storage.settings import StorageSettings
from switchyard.usage.ledger import UsageLedger
from switchyard.usage.spool import Spool, spool_directory
from tests.databases import a_record, read_usage

ROOT = Path(__file__).resolve().parents[2]

# A child that queues rows it will never write (flush_seconds is an hour), says so, and waits
# to be killed.
CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from switchyard.storage.settings import StorageSettings
    from switchyard.usage.ledger import UsageLedger
    from tests.databases import a_record

    async def main() -> None:
        ledger = UsageLedger(StorageSettings(url=sys.argv[1], spool_dir=sys.argv[2],
                                             flush_seconds=3600, batch_size=10_000))
        await ledger.start()
        for i in range(int(sys.argv[3])):
            ledger.emit(a_record(f"killed-{i}"))
        print("queued", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def _kill_after_queueing(url: str, spool: Path, count: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(spool), str(count)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"queued"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)


async def test_rows_queued_by_a_killed_process_are_written_by_the_next_ledger(
    storage_url: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    _kill_after_queueing(storage_url, spool, 25)
    rows, _ = await read_usage(storage_url)
    assert rows == []  # the child wrote nothing: its rows are only in its spool
    assert list(spool.glob("*.jsonl"))

    ledger = UsageLedger(StorageSettings(url=storage_url, spool_dir=str(spool)))
    await ledger.start()
    await ledger.aclose()
    assert ledger.recovered == 25
    rows, attempts = await read_usage(storage_url)
    assert sorted(r["request_id"] for r in rows) == sorted(f"killed-{i}" for i in range(25))
    assert len(attempts) == 25 * len(a_record().attempts)
    assert not spool.exists()  # taken over, written, removed


async def test_a_spool_replayed_twice_adds_no_row_twice(sqlite_url: str, tmp_path: Path) -> None:
    """A process killed after its write committed but before it deleted its spool: the rows
    keep their first ids, and the database skips the ones it has."""
    spool = tmp_path / "spool"
    first = UsageLedger(StorageSettings(url=sqlite_url, spool_dir=str(spool), flush_seconds=3600))
    await first.start()
    for i in range(4):
        first.emit(a_record(f"r{i}"))
    assert first.spool is not None
    written = {p.name: p.read_bytes() for p in spool.glob("*.jsonl")}
    await first.aclose()  # all four written; the spool is gone
    spool.mkdir()
    for name, content in written.items():  # ... and back, as a killed writer would leave it
        (spool / name).write_bytes(content)
        (spool / f"{name.split('.')[0]}.lock").touch()

    second = UsageLedger(StorageSettings(url=sqlite_url, spool_dir=str(spool)))
    await second.start()
    await second.aclose()
    assert second.recovered == 4
    rows, _ = await read_usage(sqlite_url)
    assert sorted(r["request_id"] for r in rows) == ["r0", "r1", "r2", "r3"]


async def test_a_live_ledgers_spool_is_never_taken_over(sqlite_url: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    settings = StorageSettings(url=sqlite_url, spool_dir=str(spool), flush_seconds=3600)
    alive = UsageLedger(settings)
    await alive.start()
    alive.emit(a_record("mine"))
    other = UsageLedger(settings)
    await other.start()
    await other.aclose()
    assert other.recovered == 0
    await alive.aclose()
    assert alive.written == 1
    rows, _ = await read_usage(sqlite_url)
    assert [r["request_id"] for r in rows] == ["mine"]


async def test_committed_segments_are_deleted_and_the_spool_stays_small(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.open()
    segments = [spool.append(({"id": str(i)}, [])) for i in range(2500)]
    assert set(segments) == {0, 1, 2}
    assert len(list(spool.directory.glob("*.jsonl"))) == 3
    spool.committed(segments[:2000])  # the first two segments are in the database
    assert [p.name.split(".")[1] for p in spool.directory.glob("*.jsonl")] == ["2"]
    spool.committed(segments[2000:])
    spool.close()
    assert not spool.directory.exists()


def test_an_unwritable_spool_is_switched_off_and_the_ledger_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    spool = Spool(blocker / "spool")
    spool.open()
    assert not spool.on
    assert spool.append(({"id": "x"}, [])) == -1


def test_each_database_has_its_own_spool_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    one = spool_directory("postgresql+asyncpg://db-one/x", None)
    two = spool_directory("postgresql+asyncpg://db-two/x", None)
    assert one != two and one.parent == tmp_path / "switchyard" / "spool"
    assert spool_directory("sqlite+aiosqlite:///a.db", "/var/spool/sy") == Path("/var/spool/sy")
