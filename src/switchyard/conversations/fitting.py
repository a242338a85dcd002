"""Fitting a session's history into the model's context window: the documented policy.

    prompt = [system prompt] + [summary of older turns] + newest turns that fit + new message

- The system prompt and the new user message are always sent; when they alone do not fit the
  window minus the reply's reserve, the message is refused (400 ``context_length_exceeded``,
  ``param: content``) rather than sent without its instructions.
- Older turns are dropped first, whole: the kept history starts at a user turn, so no
  provider sees an answer without its question.
- With ``conversations.summarise_with`` set, the room of one summary
  (``summary_max_tokens``) is kept free too, and the dropped turns are handed back to be
  summarised (:mod:`.summary`); without it they are simply not sent (they stay stored).

Pure: tokens are counted by the caller's ``count`` (the gateway's counting, see
:meth:`~switchyard.gateway.Gateway.count_tokens`), one message at a time, so every turn is
counted once per fitting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from switchyard.conversations.records import Turn
from switchyard.errors import ContextLengthExceeded
from switchyard.types import Message

SUMMARY_PREFIX = "Summary of the earlier part of this conversation:\n"


@dataclass(frozen=True, slots=True)
class Fitted:
    kept: list[Turn]  # the newest turns that fit, oldest first, starting at a user turn
    dropped: list[Turn]  # the older turns that did not, oldest first


def as_message(turn: Turn) -> Message:
    return Message(role=turn.role, content=turn.content)


def summary_message(summary: str) -> Message:
    return Message(role="system", content=SUMMARY_PREFIX + summary)


def fit(
    fixed: Sequence[Message],
    history: Sequence[Turn],
    *,
    room: int | None,
    count: Callable[[Message], int],
) -> Fitted:
    """Keep the newest turns of ``history`` whose tokens, with those of the ``fixed``
    messages (the system prompt, a summary, the new message), stay within ``room`` tokens
    (None: the window is not known, keep everything)."""
    if room is None:
        return Fitted(list(history), [])
    used = sum(count(message) for message in fixed)
    if used > room:
        raise ContextLengthExceeded(
            f"the system prompt and this message need {used} tokens, more than the {room} "
            "this model's context window leaves (conversations.reply_reserve_tokens kept free)",
            param="content",
        )
    start = len(history)
    for i in range(len(history) - 1, -1, -1):
        used += count(as_message(history[i]))
        if used > room:
            break
        start = i
    while start < len(history) and history[start].role != "user":
        start += 1  # never begin with an answer whose question was dropped
    return Fitted(list(history[start:]), list(history[:start]))


__all__ = ["SUMMARY_PREFIX", "Fitted", "as_message", "fit", "summary_message"]
