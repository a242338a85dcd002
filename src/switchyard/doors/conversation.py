"""The conversation of a completion request in the native shape (``system``, then ``prompt``
or ``messages``), as the native REST door and the GraphQL door (whose ``CompletionInput`` has
the native fields) both read it: a pure function, no validation of its own (each door checks
its input its way first)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def conversation(
    system: str | None, prompt: str | None, messages: Iterable[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """The canonical messages' data: the system prompt first (when given), then ``prompt`` as
    one user message when given, else ``messages`` as they are."""
    turns: list[dict[str, Any]] = []
    if system is not None:
        turns.append({"role": "system", "content": system})
    if prompt is not None:
        turns.append({"role": "user", "content": prompt})
    elif messages is not None:
        turns.extend(messages)
    return turns


__all__ = ["conversation"]
