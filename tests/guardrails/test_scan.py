"""Redaction in a whole text and in a stream: split anywhere, the stream says the same."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.guardrails.rules import PatternRule
from switchyard.guardrails.scan import Fired, StreamScanner, redact_arguments, redact_text
from switchyard.guardrails.settings import BlocklistGuardrail, PiiGuardrail, RegexGuardrail

PII = PiiGuardrail(on="output", action="redact").rule
WORDS = BlocklistGuardrail(on="output", action="redact", words=["project falcon", "falcon"]).rule
TICKET = RegexGuardrail(on="output", action="redact", pattern=r"TICKET-\d{4,8}").rule
RULES: list[PatternRule] = [r for r in (PII, WORDS, TICKET) if isinstance(r, PatternRule)]

FRAGMENTS = [
    "4111 1111 1111 1111",
    "4111 1111 1111 1112",
    "jane.doe@example.com",
    "DE89 3704 0044 0532 0130 00",
    "+44 20 7946 0958",
    "AKIAIOSFODNN7EXAMPLE",
    "Project Falcon",
    "falconry",
    "TICKET-12345",
    "hello",
    " ",
    ", ",
    "\n",
    "12",
    "@",
    "-",
    "ok.",
]


def stream(rules: list[PatternRule], pieces: list[str]) -> str:
    scanner = StreamScanner(rules, lambda rule: None)
    return "".join(scanner.feed(piece) for piece in pieces) + scanner.flush()


def whole(rules: list[PatternRule], text: str) -> str:
    return redact_text(rules, text, lambda rule: None)


def test_the_whole_text_is_redacted_by_every_rule() -> None:
    text = (
        "Card 4111 1111 1111 1111 (not 4111 1111 1111 1112), mail jane.doe@example.com, "
        "IBAN DE89 3704 0044 0532 0130 00 about Project Falcon and falconry, see TICKET-12345."
    )
    assert whole(RULES, text) == (
        "Card [REDACTED:CREDIT_CARD] (not 4111 1111 1111 1112), mail [REDACTED:EMAIL], "
        "IBAN [REDACTED:IBAN] about [REDACTED] and falconry, see [REDACTED]."
    )


def test_a_card_split_over_three_chunks_is_redacted() -> None:
    pieces = ["Your card is 4111 11", "11 1111 ", "1111, thanks"]
    assert stream(RULES, pieces) == "Your card is [REDACTED:CREDIT_CARD], thanks"


def test_a_stream_releases_text_as_it_comes_only_the_hold_behind() -> None:
    rules: list[PatternRule] = [TICKET] if isinstance(TICKET, PatternRule) else []
    scanner = StreamScanner(rules, lambda rule: None)
    assert scanner.hold == 16  # TICKET- and 8 digits, and one character of look-ahead
    released = scanner.feed("a" * 100)
    assert released == "a" * 84 and scanner.pending == "a" * 16
    assert scanner.feed("TICK") == "aaaa"
    assert scanner.feed("ET-9912 more text follows") == "a" * 12 + "[REDACTED] m"
    assert scanner.flush() == "ore text follows"


def test_blocked_text_raises_before_any_of_it_is_released() -> None:
    block = RegexGuardrail(on="output", action="block", pattern=r"rm -rf /").rule
    assert isinstance(block, PatternRule)
    heard: list[str] = []
    scanner = StreamScanner([block], lambda rule: heard.append(rule.name))
    assert scanner.feed("run: rm -") == ""
    with pytest.raises(Fired):
        scanner.feed("rf / now, and some more text after it")
    assert heard == ["regex"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=30),
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=60),
)
def test_any_split_of_the_text_streams_to_what_the_whole_text_redacts(
    fragments: list[str], sizes: list[int]
) -> None:
    text = "".join(fragments)
    pieces, at, i = [], 0, 0
    while at < len(text):
        size = sizes[i % len(sizes)]
        pieces.append(text[at : at + size])
        at, i = at + size, i + 1
    assert stream(RULES, pieces) == whole(RULES, text)


def test_arguments_are_redacted_inside_their_strings_and_stay_json() -> None:
    quoting = RegexGuardrail(
        name="q", on="output", action="redact", pattern=r"secret\w{0,10}", replacement='"x"'
    ).rule
    assert isinstance(quoting, PatternRule)
    arguments = '{"a": "my secret123 here", "n": [1, {"b": "secretly"}], "c": true}'
    redacted = redact_arguments([quoting], arguments, lambda rule: None)
    assert json.loads(redacted) == {"a": 'my "x" here', "n": [1, {"b": '"x"'}], "c": True}
    untouched = '{"a":  "nothing"}'
    assert redact_arguments([quoting], untouched, lambda rule: None) is untouched
    assert redact_arguments([quoting], "not json: secret1", lambda rule: None) == 'not json: "x"'
