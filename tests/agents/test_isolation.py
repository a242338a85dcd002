"""The runner's guard: outside a private network namespace it refuses before it writes or
starts anything; inside ``harness.UNSHARE`` (loopback only) it goes on, as PID 1."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agents.harness import REPO, UNSHARE, python_env
from tests.agents.isolation import why_not_isolated
from tests.services import missing


def _python(*argv: str, unshare: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *argv]
    return subprocess.run(
        [*UNSHARE, *command] if unshare else command,
        cwd=REPO,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_runner_refuses_outside_a_network_namespace_and_starts_nothing(
    tmp_path: Path,
) -> None:
    if why_not_isolated() is None:
        pytest.skip("this test process is itself isolated: there is no outside to refuse")
    spec = {"agent": "claude-code", "upstream": "anthropic", "scenario": "plain"}
    spec["directory"] = str(tmp_path / "run")
    completed = _python("-m", "tests.agents.runner", json.dumps(spec))
    assert completed.returncode == 3, completed.stderr
    report = json.loads(completed.stdout)
    assert report["refused"].startswith("not in a private network namespace")
    assert not (tmp_path / "run").exists()  # no secret, no config, no gateway, no agent


def test_inside_unshare_only_loopback_is_left_and_the_guard_lets_the_run_go_on() -> None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        missing("`unshare` and `ip` (util-linux, iproute2) are needed to isolate the agents")
    check = (
        "from tests.agents.isolation import bring_up_loopback, why_not_isolated;"
        "bring_up_loopback(); print(why_not_isolated())"
    )
    completed = _python("-c", check, unshare=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "None"


def test_the_runner_is_the_first_process_of_its_namespace_so_nothing_outlives_it() -> None:
    if shutil.which("unshare") is None:
        missing("`unshare` (util-linux) is needed to isolate the agents")
    completed = _python("-c", "import os; print(os.getpid())", unshare=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "1"


def test_another_interface_or_a_route_through_one_is_named(tmp_path: Path) -> None:
    assert why_not_isolated(["lo", "eth0", "ifb0"], tmp_path) == (
        "network interfaces other than lo: eth0, ifb0"
    )
    (tmp_path / "route").write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n"
    )
    assert why_not_isolated(["lo"], tmp_path) == "routes through eth0"
    (tmp_path / "route").write_text("Iface\tDestination\tGateway\n")
    (tmp_path / "ipv6_route").write_text(
        "00000000000000000000000000000001 80 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n"
    )
    assert why_not_isolated(["lo"], tmp_path) is None
