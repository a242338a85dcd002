"""The exact text of values inside a JSON document.

Anthropic sends a tool call's arguments as a JSON object (``"input": {...}``), while the
canonical ``ToolCall.arguments`` is JSON text. Re-serialising the parsed object would change
spacing and escapes; this module finds the text the upstream actually sent, so the arguments a
caller receives are byte for byte the upstream's, as they are when streamed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


def member_texts(document: str, array_key: str, member_key: str) -> list[str | None]:
    """For the top-level object's array ``array_key``, the raw text of each element's
    ``member_key`` value (None for an element without it), in order.

    ``member_texts('{"content": [{"input": {"a": 1}}, {"type": "text"}]}', "content",
    "input")`` is ``['{"a": 1}', None]``. Raises ``ValueError`` when ``document`` is not JSON
    of that shape."""
    cursor = _Cursor(document)
    for key in cursor.members():
        if key != array_key:
            cursor.skip_value()
            continue
        texts: list[str | None] = []
        for _ in cursor.items():
            if cursor.peek() != "{":
                cursor.skip_value()
                texts.append(None)
                continue
            text = None
            for inner in cursor.members():
                start, end = cursor.skip_value()
                if inner == member_key:
                    text = document[start:end]
            texts.append(text)
        return texts
    raise ValueError(f"no {array_key!r} array in the document")


class _Cursor:
    """A position in a JSON text, moved by the standard decoder's ``raw_decode``."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1
        if self.pos >= len(self.text):
            raise ValueError("unexpected end of JSON")
        return self.text[self.pos]

    def take(self, expected: str) -> None:
        if self.peek() != expected:
            raise ValueError(f"expected {expected!r} at {self.pos}")
        self.pos += 1

    def skip_value(self) -> tuple[int, int]:
        """Step over one value; its ``(start, end)`` offsets."""
        _, start, end = self._value()
        return start, end

    def _value(self) -> tuple[object, int, int]:
        self.peek()
        start = self.pos
        value, end = _DECODER.raw_decode(self.text, start)
        self.pos = end
        return value, start, end

    def members(self) -> Iterator[str]:
        """The keys of the object here; the caller steps over each value before the next."""
        self.take("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key, start, _ = self._value()
            if not isinstance(key, str):
                raise ValueError(f"expected a key at {start}")
            self.take(":")
            yield key
            if self._after_item("}"):
                return

    def items(self) -> Iterator[None]:
        """Once per element of the array here; the caller steps over each element."""
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield None
            if self._after_item("]"):
                return

    def _after_item(self, closing: str) -> bool:
        char = self.peek()
        self.pos += 1
        if char == closing:
            return True
        if char != ",":
            raise ValueError(f"expected ',' or {closing!r} at {self.pos - 1}")
        return False


__all__ = ["member_texts"]
