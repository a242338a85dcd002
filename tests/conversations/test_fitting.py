"""The history policy on its own: system prompt and new message always kept, oldest turns
dropped first and whole, a window too small for the essentials refused naming ``content``."""

from __future__ import annotations

import pytest

from switchyard.conversations.fitting import as_message, fit
from switchyard.conversations.records import Turn
from switchyard.errors import ContextLengthExceeded
from switchyard.types import Message


def words(message: Message) -> int:
    """One token a word: easy to work out by hand."""
    return len(message.text().split())


SYSTEM = Message(role="system", content="be brief")  # 2
NEW = Message(role="user", content="and now this")  # 3
HISTORY = [
    Turn(role="user", content="one two", id=1),  # 2
    Turn(role="assistant", content="three four five", id=2),  # 3
    Turn(role="user", content="six", id=3),  # 1
    Turn(role="assistant", content="seven eight", id=4),  # 2
]


def test_everything_is_kept_when_it_fits_or_the_window_is_unknown() -> None:
    assert fit([SYSTEM, NEW], HISTORY, room=13, count=words).kept == HISTORY
    unknown = fit([SYSTEM, NEW], HISTORY, room=None, count=words)
    assert unknown.kept == HISTORY and unknown.dropped == []


def test_the_oldest_turns_go_first_and_the_kept_history_starts_with_a_question() -> None:
    fitted = fit([SYSTEM, NEW], HISTORY, room=12, count=words)  # one token short
    assert [t.id for t in fitted.kept] == [3, 4]
    assert [t.id for t in fitted.dropped] == [1, 2]
    # room for turns 2-4 (6 tokens): turn 2 is an answer whose question went, so it goes too
    fitted = fit([SYSTEM, NEW], HISTORY, room=11, count=words)
    assert [t.id for t in fitted.kept] == [3, 4]


def test_with_room_for_nothing_but_the_essentials_the_history_is_left_out() -> None:
    fitted = fit([SYSTEM, NEW], HISTORY, room=5, count=words)
    assert fitted.kept == [] and [t.id for t in fitted.dropped] == [1, 2, 3, 4]


def test_a_message_that_does_not_fit_with_its_system_prompt_is_refused() -> None:
    with pytest.raises(ContextLengthExceeded) as refused:
        fit([SYSTEM, NEW], HISTORY, room=4, count=words)
    assert refused.value.param == "content" and refused.value.status_code == 400


def test_a_turn_becomes_the_message_it_was() -> None:
    assert as_message(HISTORY[1]) == Message(role="assistant", content="three four five")
