"""Both orders: one verdict from the judgements of A/B and B/A. Pure.

Models favour a position (often the first essay shown). Judging twice, the essays swapped the
second time, cancels that bias when the two agree and exposes it when they do not:

- they agree: that essay wins; ``confidence`` is the mean of the two;
- they disagree (``position_consistent`` false): the more confident judgement wins, and
  ``confidence`` is ``0.5 + |c1 - c2| / 2`` (the mean probability the two judgements give
  the winner, reading a judgement "X wins with c" as "the other wins with 1 - c"), so a split
  decision is never reported as sure; on equal confidence the A/B order's judgement wins.

The justification is the winning judgement's (on agreement, the more confident one's).
"""

from __future__ import annotations

from typing import NamedTuple

from switchyard.comparison.answer import Judgement


class Verdict(NamedTuple):
    judgement: Judgement  # the winner, justification and confidence reported
    position_consistent: bool


def combine(ab: Judgement, ba: Judgement) -> Verdict:
    """The verdict of the A/B judgement ``ab`` and the B/A judgement ``ba`` (both already in
    the caller's terms: ``winner`` names the caller's essay)."""
    lead = ba if ba.confidence > ab.confidence else ab
    if ab.winner == ba.winner:
        confidence = (ab.confidence + ba.confidence) / 2
        return Verdict(Judgement(ab.winner, lead.justification, confidence), True)
    confidence = 0.5 + abs(ab.confidence - ba.confidence) / 2
    return Verdict(Judgement(lead.winner, lead.justification, confidence), False)


__all__ = ["Verdict", "combine"]
