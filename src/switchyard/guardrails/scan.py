"""Finding what pattern guardrails match, in a whole text or in a stream of pieces (pure).

In a whole text every match is known. In a stream, a match may be split over pieces (a card
number over three chunks), so :class:`StreamScanner` releases text only once no match can
still change it: it holds back the last ``hold`` characters (the longest match any of its rules
can make, plus one for a closing look-ahead) and releases the rest, redacted. A match that
starts in the released part is always wholly inside the text seen so far, so the pieces come
out exactly as the whole text would: streaming stays streaming, ``hold`` characters behind.

Rules that redact replace their matches (the earliest first, then the longest; overlapping
matches of later rules are covered by it). Rules that block or warn only report that they
fired: :class:`Fired` tells the caller which, and the caller decides what it means.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from switchyard.guardrails.rules import PatternRule

CONTEXT = 64  # released characters kept for a pattern's look-behind at the next piece


class Fired(Exception):
    """A block rule matched (raised by the scan, so nothing of the text is released)."""

    def __init__(self, rule: PatternRule) -> None:
        super().__init__(rule.name)
        self.rule = rule


def scan(
    rules: Sequence[PatternRule],
    text: str,
    pos: int,
    before: int,
    fired: Callable[[PatternRule], None],
) -> tuple[str, int]:
    """Redact ``text[pos:]`` for matches that start before ``before``: the redacted text from
    ``pos`` and where it ends in ``text`` (past ``before`` when a match straddles it).
    ``fired`` hears of every rule that matched; a block rule's match raises :class:`Fired`."""
    spans: list[tuple[int, int, str]] = []
    for rule in rules:
        hit = False
        for finder in rule.finders:
            for start, end in finder.spans(text, pos, before):
                hit = True
                if rule.action == "block":
                    fired(rule)
                    raise Fired(rule)
                if rule.action == "redact":
                    spans.append((start, end, finder.replacement))
                else:
                    break  # warn: one match says enough
            if hit and rule.action == "warn":
                break
        if hit:
            fired(rule)
    spans.sort(key=lambda span: (span[0], -span[1]))
    out: list[str] = []
    at = pos
    for start, end, replacement in spans:
        if start < at:  # inside a redaction already made
            continue
        out.append(text[at:start])
        out.append(replacement)
        at = end
    released = max(at, before)
    out.append(text[at:released])
    return "".join(out), released


def redact_text(
    rules: Sequence[PatternRule], text: str, fired: Callable[[PatternRule], None]
) -> str:
    """``text`` with every redact rule's matches replaced (see :func:`scan`)."""
    return scan(rules, text, 0, len(text), fired)[0]


def redact_arguments(
    rules: Sequence[PatternRule], arguments: str, fired: Callable[[PatternRule], None]
) -> str:
    """A tool call's JSON ``arguments`` with each string value scanned on its own (so a
    redaction stays inside its string and the JSON stays JSON); the text as it was when
    nothing was redacted. Arguments that are not JSON are scanned as text."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return redact_text(rules, arguments, fired)
    changed = False

    def walk(item: Any) -> Any:
        nonlocal changed
        if isinstance(item, str):
            new = redact_text(rules, item, fired)
            changed = changed or new != item
            return new
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item

    redacted = walk(value)
    return json.dumps(redacted, ensure_ascii=False) if changed else arguments


class StreamScanner:
    """One stream's text, piece by piece: :meth:`feed` returns what may be released now,
    :meth:`flush` the rest at the end."""

    __slots__ = ("_context", "_fired", "_pending", "_rules", "hold")

    def __init__(self, rules: Sequence[PatternRule], fired: Callable[[PatternRule], None]) -> None:
        self._rules = rules
        self._fired = fired
        self.hold = max(rule.max_length for rule in rules) + 1
        self._pending = ""  # seen, not released yet
        self._context = ""  # the last released characters, as they came (for look-behinds)

    @property
    def pending(self) -> str:
        return self._pending

    def feed(self, piece: str) -> str:
        return self._release(self._pending + piece, final=False)

    def flush(self) -> str:
        return self._release(self._pending, final=True) if self._pending else ""

    def discard(self) -> None:
        """Forget the held-back text (a stream that continues elsewhere says it again)."""
        self._pending = ""

    def _release(self, text: str, *, final: bool) -> str:
        cut = len(text) if final else len(text) - self.hold
        if cut <= 0:
            self._pending = text
            return ""
        whole = self._context + text
        offset = len(self._context)
        released, end = scan(self._rules, whole, offset, offset + cut, self._fired)
        end -= offset
        self._pending = text[end:]
        self._context = (self._context + text[:end])[-CONTEXT:]
        return released


__all__ = ["CONTEXT", "Fired", "StreamScanner", "redact_arguments", "redact_text", "scan"]
