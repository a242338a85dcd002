"""The runner's bound on an agent: past its time the whole process group is killed, what the
agent spawned included, and what it printed so far is kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.agents.runner import run_bounded


def _gone(pid: int) -> bool:
    """Not running: no such process, or a zombie waiting for whoever adopted it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_an_overrunning_agent_and_what_it_spawned_are_killed(tmp_path: Path) -> None:
    script = "sleep 60 & echo spawned $!; sleep 60"
    started = time.monotonic()
    code, stdout, _, timed_out = run_bounded(["sh", "-c", script], tmp_path, dict(os.environ), 1)
    assert timed_out and code is None
    assert time.monotonic() - started < 10
    spawned = int(stdout.split()[1])
    deadline = time.monotonic() + 5
    while not _gone(spawned):
        assert time.monotonic() < deadline, f"process {spawned} outlived the run"
        time.sleep(0.01)


def test_an_agent_that_ends_in_time_gives_its_exit_status_and_output(tmp_path: Path) -> None:
    code, stdout, stderr, timed_out = run_bounded(
        ["sh", "-c", "echo out; echo err >&2; exit 7"], tmp_path, dict(os.environ), 30
    )
    assert (code, stdout, stderr, timed_out) == (7, "out\n", "err\n", False)
