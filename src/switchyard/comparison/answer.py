"""Reading the judge's answer: JSON text in, a validated :class:`Judgement` out. Pure.

A model asked for JSON may still wrap it in a Markdown fence or a sentence (providers without
structured output, small models), so the object is taken from the first ``{`` to the last
``}``; everything else is checked strictly against
:data:`~switchyard.comparison.prompt.ANSWER_SCHEMA`, except a justification's length (a
provider that does not enforce ``maxLength`` may write more: kept, cut at :data:`MAX_KEPT`).
The confidence is asked for as a whole percentage and returned as a fraction (0 to 1). An
answer that fails raises :class:`UnusableAnswer` with a reason short enough to quote back to
the model on a retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import orjson

from switchyard.comparison.prompt import WINNERS, Position
from switchyard.errors import UpstreamProtocolError

Winner = Literal["essay_a", "essay_b"]
MAX_KEPT = 4000  # characters kept of a justification longer than the schema allows
_KEYS = ("justification", "winner", "confidence")  # in the schema's order


class UnusableAnswer(UpstreamProtocolError):
    """The model's answer is not the JSON object asked for (after every retry, the error the
    caller gets: 502, like any reply from upstream that cannot be read)."""

    code = "invalid_model_answer"


@dataclass(frozen=True, slots=True)
class Judgement:
    """One judgement, in the caller's terms: ``winner`` names the caller's essay whatever
    position it was shown in."""

    winner: Winner
    justification: str
    confidence: float


def parse_judgement(text: str, position: Position = "ab") -> Judgement:
    """The judgement in ``text``, its winner mapped back from the order it was asked in."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise UnusableAnswer("the answer is not a JSON object")
    try:
        value = orjson.loads(text[start : end + 1])
    except orjson.JSONDecodeError as exc:
        raise UnusableAnswer(f"the answer is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise UnusableAnswer("the answer is not a JSON object")
    missing = [key for key in _KEYS if key not in value]
    if missing:
        raise UnusableAnswer(f"the answer has no {missing[0]!r}")
    extra = sorted(set(value) - set(_KEYS))
    if extra:
        raise UnusableAnswer(f"the answer has an unexpected key {extra[0][:64]!r}")
    winner = value["winner"]
    if winner not in WINNERS:
        raise UnusableAnswer('"winner" must be "essay_a" or "essay_b"')
    justification = value["justification"]
    if not isinstance(justification, str) or not justification.strip():
        raise UnusableAnswer('"justification" must be a non-empty string')
    percent = value["confidence"]
    if (
        isinstance(percent, bool)
        or not isinstance(percent, int | float)
        or not 0 <= percent <= 100
        or percent != int(percent)
    ):
        raise UnusableAnswer('"confidence" must be a whole number from 0 to 100')
    if position == "ba":  # Essay A on the screen was the caller's essay_b
        winner = "essay_b" if winner == "essay_a" else "essay_a"
    return Judgement(winner, justification.strip()[:MAX_KEPT], int(percent) / 100)


__all__ = ["MAX_KEPT", "Judgement", "UnusableAnswer", "Winner", "parse_judgement"]
