"""What the agents' tests conclude from a runner's report (pure): a run that did not carry the
file's content up as a tool result, or that left a failed request in the gateway's log, fails."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.agents.agents import CLAUDE
from tests.agents.harness import AgentRun, run_agent
from tests.agents.scripted_model import read_answer

SECRET = "sy-secret-0a1b2c3d4e5f"
OK = "INFO switchyard.requests: request_id=1 kind=stream status=success alias=agent-model"
REFUSED = (
    "INFO switchyard.requests: request_id=2 kind=chat status=error error=ModelNotFound "
    "http_status=404 alias=gemini-2.5-flash-lite"
)


def _report(**fields: object) -> dict[str, object]:
    report: dict[str, object] = {
        "exit_code": 0,
        "stdout": read_answer(SECRET) + "\n",
        "secret": SECRET,
        "requests": [{"tools": ["Read"], "tool_results": [f"1\t{SECRET}\n"]}],
        "gateway_log": f"listening\n{OK}\n{OK}\n",
    }
    report.update(fields)
    return report


def test_a_round_trip_that_carried_the_file_up_and_printed_it_passes() -> None:
    AgentRun(_report()).assert_read_the_file()


def test_the_answer_without_the_tool_result_reaching_the_upstream_fails() -> None:
    run = AgentRun(_report(requests=[{"tools": ["Read"], "tool_results": []}]))
    with pytest.raises(AssertionError, match="no tool result with the file's content"):
        run.assert_read_the_file()


def test_a_request_the_gateway_refused_fails_the_run_even_when_the_agent_went_on() -> None:
    run = AgentRun(_report(gateway_log=f"{OK}\n{REFUSED}\n"))
    assert run.failed_requests() == [REFUSED]
    with pytest.raises(AssertionError):
        run.assert_read_the_file()


def test_an_agent_that_exits_with_an_error_fails_whatever_it_printed() -> None:
    with pytest.raises(AssertionError):
        AgentRun(_report(exit_code=1)).assert_read_the_file()


def test_a_missing_agent_install_skips_on_a_developers_machine_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    absent = replace(CLAUDE, executable="not-installed-agent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"run `bash \.ci/agents\.sh`"):
        run_agent(absent, "anthropic", "plain", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"@anthropic-ai/claude-code is not installed"):
        run_agent(absent, "anthropic", "plain", tmp_path)
    assert not any(tmp_path.iterdir())  # nothing was started
