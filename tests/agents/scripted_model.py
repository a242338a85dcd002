"""What the fake model answers an agent, whatever wire format carried the question (pure).

The agents' tests need an upstream that behaves like a model just enough to drive a real coding
agent: a plain answer, or a tool round-trip in which the model asks the agent to read a file
with the agent's own file-reading tool and then answers with what the file said. Each wire
format (``model_upstreams``) reduces a request to a :class:`Seen` and writes the :class:`Answer`
back in its own shape; the decision is made here, once.

The tool is found in what the agent sent, never assumed: agents rename their tools between
releases, so the fake looks for a reading tool by name (Claude Code's ``Read``, gemini-cli's
``read_file``) and else a shell tool (Codex's ``shell``, ``shell_command``, ``exec_command``)
and fills in the arguments its JSON schema asks for (a path property, or a ``cat`` command as an
argument list or a string).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

Scenario = Literal["plain", "tool"]
PLAIN_ANSWER = "Switchyard carried this answer."
# the reading tools first (they need no shell), then the shells
READING_TOOLS = ("Read", "read_file", "view_file", "read")
SHELL_TOOLS = ("shell_command", "exec_command", "shell", "bash", "Bash", "run_shell_command")
PATH_PROPERTIES = ("file_path", "absolute_path", "path", "filePath", "file")
COMMAND_PROPERTIES = ("command", "cmd")


@dataclass(frozen=True)
class Tool:
    """A function tool the agent offered: its name and its parameters' JSON schema."""

    name: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Seen:
    """What a request shows the model: the tools on offer and every tool result's text."""

    tools: list[Tool] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Call:
    """A tool call: the tool's name and its arguments (a JSON object)."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """Either text or one tool call."""

    text: str = ""
    call: Call | None = None


@dataclass(frozen=True)
class Script:
    """The model's part: ``plain`` answers :data:`PLAIN_ANSWER`; ``tool`` asks for
    ``secret_file`` and, once a tool result holding ``secret`` arrives, answers with it."""

    scenario: Scenario
    secret_file: str = ""
    secret: str = ""

    def answer(self, seen: Seen) -> Answer:
        if self.secret and any(self.secret in result for result in seen.tool_results):
            return Answer(text=read_answer(self.secret))
        if self.scenario == "tool":
            call = read_call(seen.tools, self.secret_file)
            if call is not None:
                return Answer(call=call)
        return Answer(text=PLAIN_ANSWER)


def read_answer(secret: str) -> str:
    """The final answer of a tool round-trip: it quotes what the file said."""
    return f"The file says: {secret}"


def read_call(tools: list[Tool], path: str) -> Call | None:
    """A call that makes the agent read ``path`` with one of ``tools``, or None when none of
    them can (a side request without tools, or an agent whose tools are all unknown here)."""
    by_name = {tool.name: tool for tool in tools}
    for name in (*READING_TOOLS, *SHELL_TOOLS):
        tool = by_name.get(name)
        if tool is None:
            continue
        arguments = _arguments(tool.schema, path)
        if arguments is not None:
            return Call(tool.name, arguments)
    return None


def _arguments(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    properties = schema.get("properties") or {}
    for name in PATH_PROPERTIES:
        if name in properties:
            return {name: path}
    for name in COMMAND_PROPERTIES:
        prop = properties.get(name)
        if not isinstance(prop, dict):
            continue
        kinds = prop.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "array" in kinds:
            return {name: ["cat", path]}
        if "string" in kinds:
            return {name: f"cat {shlex.quote(path)}"}
    return None


__all__ = [
    "PLAIN_ANSWER",
    "Answer",
    "Call",
    "Scenario",
    "Script",
    "Seen",
    "Tool",
    "read_answer",
    "read_call",
]
