"""Claude Code, Codex CLI and gemini-cli, unmodified, at the versions pinned in
tests/agents/package.json, run non-interactively through the served gateway over upstreams of
their own format and of others (issue 16): a plain answer, and a tool round-trip in which the
model asks the agent to read a file with its own tool and answers with what it read.

Each run is isolated: fake upstream, gateway and agent live in a private network namespace
with only loopback (see runner.py), so nothing can leave the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.agents import CLAUDE, CODEX, GEMINI, Agent
from tests.agents.harness import run_agent

pytestmark = pytest.mark.agents

# each agent over an upstream of its own format, over OpenAI chat completions, and one more
MATRIX = [
    (CLAUDE, "anthropic"),
    (CLAUDE, "chat"),
    (CLAUDE, "gemini"),
    (CODEX, "responses"),
    (CODEX, "chat"),
    (CODEX, "anthropic"),
    (GEMINI, "gemini"),
    (GEMINI, "chat"),
]
IDS = [f"{agent.name}-over-{upstream}" for agent, upstream in MATRIX]


@pytest.mark.parametrize(("agent", "upstream"), MATRIX, ids=IDS)
def test_the_agent_prints_the_models_answer(agent: Agent, upstream: str, tmp_path: Path) -> None:
    run_agent(agent, upstream, "plain", tmp_path).assert_answered_plainly()


@pytest.mark.parametrize(("agent", "upstream"), MATRIX, ids=IDS)
def test_the_agent_reads_the_file_the_model_asks_for_and_answers_with_it(
    agent: Agent, upstream: str, tmp_path: Path
) -> None:
    run_agent(agent, upstream, "tool", tmp_path).assert_read_the_file()
