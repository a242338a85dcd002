"""The request that summarises a session's dropped turns (``conversations.summarise_with``):
the earlier summary, if any, and the turns, as one transcript for the summariser to condense.

Pure: the service sends the request through the Gateway, so it is authorized, limited and
accounted to the conversation's caller like any other."""

from __future__ import annotations

from collections.abc import Sequence

from switchyard.conversations.records import Turn
from switchyard.types import ChatRequest, Message

INSTRUCTION = (
    "You condense conversations. Summarise the conversation below for the assistant who "
    "continues it: keep facts, names, numbers, decisions, open questions and the user's stated "
    "preferences; drop pleasantries. Answer with the summary only, in plain text."
)
SPEAKERS = {"user": "User", "assistant": "Assistant"}


def transcript(previous: str | None, turns: Sequence[Turn]) -> str:
    lines = [] if previous is None else [f"Summary so far: {previous}", ""]
    lines += [f"{SPEAKERS[turn.role]}: {turn.content}" for turn in turns]
    return "\n".join(lines)


def summary_request(
    model: str, previous: str | None, turns: Sequence[Turn], max_tokens: int
) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=[
            Message(role="system", content=INSTRUCTION),
            Message(role="user", content=transcript(previous, turns)),
        ],
        max_tokens=max_tokens,
    )


__all__ = ["INSTRUCTION", "summary_request", "transcript"]
