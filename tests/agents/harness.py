"""The tests' side of an agent run: start :mod:`tests.agents.runner` under ``unshare`` and
read its report, or say (skip on a developer's machine, fail under ``CI=true``) what this
machine lacks: the agents' npm install, or the right to make a network namespace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.agents.agents import Agent
from tests.agents.scripted_model import PLAIN_ANSWER, read_answer
from tests.services import missing

REPO = Path(__file__).resolve().parents[2]
UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
"""A network namespace (only loopback) and a PID namespace whose first process is the runner:
when the runner ends, or is killed because it overran, the kernel ends everything it started
(the gateway, the agent and whatever the agent spawned), so no process outlives a test."""
SECONDS = 90
"""The longest an agent may run; the runner kills its process group after that."""


@dataclass(frozen=True)
class AgentRun:
    """The runner's report on one run."""

    report: dict[str, Any]

    @property
    def stdout(self) -> str:
        return str(self.report.get("stdout", ""))

    @property
    def secret(self) -> str:
        return str(self.report["secret"])

    @property
    def requests(self) -> list[dict[str, Any]]:
        return list(self.report.get("requests", []))

    def explain(self) -> str:
        """Everything a failure needs: the agent's exit and output, the upstream's requests
        and the gateway's log."""
        shown = {key: self.report.get(key) for key in ("exit_code", "timed_out", "seconds")}
        return (
            f"{json.dumps(shown)}\n--- agent stdout\n{self.stdout}\n--- agent stderr\n"
            f"{self.report.get('stderr', '')}\n--- upstream requests\n"
            f"{json.dumps(self.requests, indent=1)[:4000]}\n--- gateway log\n"
            f"{self.report.get('gateway_log', '')}"
        )

    def failed_requests(self) -> list[str]:
        """The gateway's log lines of requests that did not succeed (one per request, failed
        ones included): an agent's side request the gateway refused shows here even when the
        agent shrugs it off."""
        log = str(self.report.get("gateway_log", ""))
        lines = [line for line in log.splitlines() if "switchyard.requests:" in line]
        return [line for line in lines if " status=success" not in line]

    def assert_answered_plainly(self) -> None:
        assert self.report.get("exit_code") == 0, self.explain()
        assert PLAIN_ANSWER in self.stdout, self.explain()
        assert self.requests, self.explain()
        assert not self.failed_requests(), self.explain()

    def assert_read_the_file(self) -> None:
        """The model asked for the file, the agent's tool read it, the result went back up
        through the gateway, and the agent printed the answer built on it."""
        assert self.report.get("exit_code") == 0, self.explain()
        carried = [r for r in self.requests if any(self.secret in t for t in r["tool_results"])]
        assert carried, (
            f"no tool result with the file's content reached the upstream\n{self.explain()}"
        )
        assert read_answer(self.secret) in self.stdout, self.explain()
        assert not self.failed_requests(), self.explain()


def run_agent(
    agent: Agent, upstream: str, scenario: str, directory: Path, seconds: float = SECONDS
) -> AgentRun:
    """``agent`` over an ``upstream`` format in a private network namespace."""
    if not agent.installed():
        missing(f"{agent.package} is not installed in tests/agents: run `bash .ci/agents.sh`")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        missing("`unshare` and `ip` (util-linux, iproute2) are needed to isolate the agents")
    spec = {
        "agent": agent.name,
        "upstream": upstream,
        "scenario": scenario,
        "directory": str(directory),
        "seconds": seconds,
    }
    completed = subprocess.run(
        [*UNSHARE, sys.executable, "-m", "tests.agents.runner", json.dumps(spec)],
        cwd=REPO,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=seconds + 120,  # the gateway may take a while to start on a loaded machine
    )
    if completed.returncode != 0 and not completed.stdout.strip():
        if "unshare" in completed.stderr and "Operation not permitted" in completed.stderr:
            missing(f"cannot make a network namespace here: {completed.stderr.strip()}")
        pytest.fail(f"the runner failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
    report = json.loads(completed.stdout.splitlines()[-1])
    assert "refused" not in report, report["refused"]
    return AgentRun(report)


def python_env() -> dict[str, str]:
    """This environment, with the repository on ``PYTHONPATH`` ahead of what was there (a
    worktree's ``src``), for ``python -m tests.agents...`` run from the repository."""
    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


__all__ = ["REPO", "SECONDS", "UNSHARE", "AgentRun", "python_env", "run_agent"]
