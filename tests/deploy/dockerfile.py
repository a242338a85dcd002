"""Reading a Dockerfile into its stages and instructions (enough to check ours, not a parser
of every Dockerfile: heredocs and parser directives other than comments are not handled)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, ...
    text: str  # the arguments, continuation lines joined

    def words(self) -> list[str]:
        """Exec form (a JSON array) or shell words."""
        if self.text.startswith("["):
            words: list[str] = json.loads(self.text)
            return words
        return shlex.split(self.text)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str | None]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def resolve(self, text: str) -> str:
        """``${ARG}`` of a global ARG replaced by its default (as FROM lines see them)."""
        return re.sub(
            r"\$\{?(\w+)\}?", lambda m: self.global_args.get(m.group(1)) or m.group(0), text
        )


def instructions(text: str) -> list[Instruction]:
    found: list[Instruction] = []
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not logical):
            continue  # comments may sit inside a continued instruction, as Docker allows
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, rest = logical.strip().partition(" ")
        found.append(Instruction(keyword.upper(), " ".join(rest.split())))
        logical = ""
    assert not logical, "the Dockerfile ends inside a continued line"
    return found


def parse(path: Path) -> Dockerfile:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for instruction in instructions(path.read_text()):
        if instruction.keyword == "FROM":
            words = instruction.text.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif not stages:
            assert instruction.keyword == "ARG", f"{instruction.keyword} before the first FROM"
            key, _, default = instruction.text.partition("=")
            global_args[key] = default or None
        else:
            stages[-1].instructions.append(instruction)
    return Dockerfile(global_args, stages)


__all__ = ["Dockerfile", "Instruction", "Stage", "instructions", "parse"]
