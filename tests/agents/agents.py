"""How each coding agent is started against the served gateway: its command line, its
environment and the settings files it reads from its (temporary) home.

Everything nonessential is off, by each agent's documented switches: telemetry, error
reporting, update checks and auto-updaters, IDE integration, MCP servers. The network namespace
the runner checks is what guarantees nothing leaves the machine; these switches keep the agents
from waiting on connections that cannot succeed there, and keep their runs short.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ALIAS = "agent-model"
"""The gateway's alias every agent asks for (its main and its small model)."""
API_KEY = "sk-agents-master-key"
"""The gateway's master key, which the agents send as their API key."""
NODE_MODULES = Path(__file__).parent / "node_modules"
PLAIN_PROMPT = "Say something short."
TOOL_PROMPT = "What does the file {path} say? Read it and quote it."


@dataclass(frozen=True)
class Launch:
    """A ready command: its arguments and the environment it adds."""

    argv: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Agent:
    """One agent: its name, the npm package that carries it, its executable in
    ``node_modules/.bin`` and the function that prepares a run."""

    name: str
    package: str
    executable: str
    prepare: Callable[[str, Path, str], Launch]

    @property
    def path(self) -> Path:
        return NODE_MODULES / ".bin" / self.executable

    def installed(self) -> bool:
        return self.path.exists()


def claude_code(gateway: str, home: Path, prompt: str) -> Launch:
    """``claude -p``: ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY point it at the gateway's
    Anthropic door; the model variables send its main and small-fast requests to one alias."""
    home.joinpath(".claude").mkdir(parents=True, exist_ok=True)
    env = {
        "ANTHROPIC_BASE_URL": gateway,
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_MODEL": ALIAS,
        "ANTHROPIC_SMALL_FAST_MODEL": ALIAS,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": ALIAS,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": ALIAS,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": ALIAS,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_BUG_COMMAND": "1",
        "DISABLE_COST_WARNINGS": "1",
        "DISABLE_NON_ESSENTIAL_MODEL_CALLS": "1",
        "CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL": "1",
        "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
        "IS_SANDBOX": "1",
    }
    argv = [
        str(CLAUDE.path),
        "-p",
        prompt,
        "--model",
        ALIAS,
        "--output-format",
        "text",
        "--allowedTools",
        "Read",
        "--strict-mcp-config",
        "--max-turns",
        "4",
    ]
    return Launch(argv, env)


def codex(gateway: str, home: Path, prompt: str) -> Launch:
    """``codex exec``: a ``model_providers`` entry in ``$CODEX_HOME/config.toml`` with
    ``wire_api = "responses"`` and the gateway's ``/v1`` as its ``base_url``."""
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    codex_home.joinpath("config.toml").write_text(
        f"""model = "{ALIAS}"
model_provider = "switchyard"
check_for_update_on_startup = false

[model_providers.switchyard]
name = "Switchyard"
base_url = "{gateway}/v1"
env_key = "SWITCHYARD_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
trace_exporter = "none"
metrics_exporter = "none"
"""
    )
    env = {"CODEX_HOME": str(codex_home), "SWITCHYARD_API_KEY": API_KEY}
    argv = [
        str(CODEX.path),
        "exec",
        "--skip-git-repo-check",
        "--color",
        "never",
        "--model",
        ALIAS,
        "--sandbox",
        "read-only",
        prompt,
    ]
    return Launch(argv, env)


def gemini_cli(gateway: str, home: Path, prompt: str) -> Launch:
    """``gemini -p``: GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY with the ``gemini-api-key``
    auth type point it at the gateway's Gemini door."""
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "ide": {"enabled": False},
    }
    gemini_home = home / ".gemini"
    gemini_home.mkdir(parents=True, exist_ok=True)
    gemini_home.joinpath("settings.json").write_text(json.dumps(settings, indent=2))
    env = {
        "GOOGLE_GEMINI_BASE_URL": gateway,
        "GEMINI_API_KEY": API_KEY,
        "GEMINI_CLI_NO_RELAUNCH": "true",
        "GEMINI_TELEMETRY_ENABLED": "false",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    argv = [str(GEMINI.path), "-p", prompt, "--model", ALIAS, "--output-format", "text"]
    return Launch(argv, env)


CLAUDE = Agent("claude-code", "@anthropic-ai/claude-code", "claude", claude_code)
CODEX = Agent("codex", "@openai/codex", "codex", codex)
GEMINI = Agent("gemini-cli", "@google/gemini-cli", "gemini", gemini_cli)
AGENTS = {agent.name: agent for agent in (CLAUDE, CODEX, GEMINI)}

__all__ = ["AGENTS", "ALIAS", "API_KEY", "CLAUDE", "CODEX", "GEMINI", "Agent", "Launch"]
