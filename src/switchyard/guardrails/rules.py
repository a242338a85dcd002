"""Compiled guardrails: what a configured guardrail becomes once, at config load.

A :class:`PatternRule` (``regex``, ``blocklist``, ``pii``) finds spans of text through one or
more :class:`Finder`; a :class:`LengthRule` (``max_length``) counts characters; a
:class:`SchemaRule` (``json_schema``) checks a whole answer. Every rule knows its ``name``,
its side (``on``) and its ``action``: what the Gateway records when it fires.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

Side = Literal["input", "output"]
Action = Literal["block", "redact", "warn"]


@dataclass(frozen=True, slots=True)
class Finder:
    """One pattern: its matches, kept when ``valid`` (if any) accepts them, are replaced by
    ``replacement`` when the rule redacts."""

    pattern: re.Pattern[str]
    replacement: str
    valid: Callable[[str], bool] | None = None

    def spans(self, text: str, pos: int, before: int) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of every valid match starting in ``[pos, before)``. A candidate
        that fails ``valid`` is retried one character later, so a rejected long run (an
        invalid card number) does not hide a valid match that starts inside it."""
        search = self.pattern.search
        while pos < before:
            match = search(text, pos)
            if match is None or match.start() >= before:
                return
            start, end = match.span()
            if end == start:  # an empty match finds nothing worth a decision
                pos = start + 1
                continue
            if self.valid is None or self.valid(match.group()):
                yield start, end
                pos = end
            else:
                pos = start + 1


@dataclass(frozen=True, slots=True)
class PatternRule:
    name: str
    on: Side
    action: Action
    finders: tuple[Finder, ...]
    max_length: int  # the longest match any finder can report (a stream holds this much back)


@dataclass(frozen=True, slots=True)
class LengthRule:
    """More than ``max_chars`` characters of text: the whole input's messages, or an answer."""

    name: str
    on: Side
    action: Action
    max_chars: int


@dataclass(frozen=True, slots=True)
class SchemaRule:
    """An answer that is not JSON valid against a schema: ``problem`` says why, or None."""

    name: str
    on: Side
    action: Action
    problem: Callable[[str], str | None]


Rule = PatternRule | LengthRule | SchemaRule

__all__ = ["Action", "Finder", "LengthRule", "PatternRule", "Rule", "SchemaRule", "Side"]
