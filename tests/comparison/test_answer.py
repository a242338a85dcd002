"""The pure parts of essay comparison: the judge's prompt, the reading of its answer and the
both-orders rule, with answers as models really write them."""

from __future__ import annotations

import orjson
import pytest

from switchyard.comparison.answer import Judgement, UnusableAnswer, parse_judgement
from switchyard.comparison.orders import combine
from switchyard.comparison.prompt import (
    ANSWER_SCHEMA,
    MAX_JUSTIFICATION,
    MAX_REJECTED_ECHO,
    comparison_messages,
    response_format,
    retry_messages,
)

# What SmolLM2-135M answered under llama.cpp's grammar for ANSWER_SCHEMA (a real run)
SMOLLM2 = (
    '{\n  "justification": "exercise is good, and it helps people sleep better, and it\'s easy'
    ' to do",\n  "winner": "essay_a",\n  "confidence": 100\n}'
)
# An OpenAI structured-output message content
STRUCTURED = (
    '{"justification":"Essay B answers the question with evidence; Essay A only restates it.",'
    '"winner":"essay_b","confidence":82}'
)
# A model without structured output, instructed: the JSON in a Markdown fence after a sentence
FENCED = (
    "Here is my judgement:\n\n```json\n"
    '{\n  "justification": "Essay A is better organised.",\n  "winner": "essay_a",\n'
    '  "confidence": 70\n}\n```'
)


def test_real_answers_read_as_judgements() -> None:
    assert parse_judgement(SMOLLM2) == Judgement(
        "essay_a", "exercise is good, and it helps people sleep better, and it's easy to do", 1.0
    )
    assert parse_judgement(STRUCTURED) == Judgement(
        "essay_b", "Essay B answers the question with evidence; Essay A only restates it.", 0.82
    )
    assert parse_judgement(FENCED) == Judgement("essay_a", "Essay A is better organised.", 0.7)


def test_the_swapped_order_maps_the_winner_back_to_the_callers_essay() -> None:
    # shown B/A, "essay_a" on the screen was the caller's essay_b
    assert parse_judgement(STRUCTURED, "ba").winner == "essay_a"
    assert parse_judgement(FENCED, "ba").winner == "essay_b"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I prefer the first essay.", "not a JSON object"),
        ('{"justification": "Essay A is clearer, but', "not a JSON object"),  # cut off
        ('{"justification": "x", "winner": "essay_a", "confidence": 80,}', "not valid JSON"),
        ('{"winner": "essay_a", "confidence": 80}', "no 'justification'"),
        ('{"justification": "x", "winner": "A", "confidence": 80}', '"winner" must be'),
        ('{"justification": " ", "winner": "essay_a", "confidence": 80}', "non-empty string"),
        ('{"justification": "x", "winner": "essay_a", "confidence": 0.85}', "whole number"),
        ('{"justification": "x", "winner": "essay_a", "confidence": 1e15}', "whole number"),
        ('{"justification": "x", "winner": "essay_a", "confidence": -3}', "whole number"),
        ('{"justification": "x", "winner": "essay_a", "confidence": true}', "whole number"),
        ('{"justification": "x", "winner": "essay_a", "confidence": "90"}', "whole number"),
        (
            '{"justification": "x", "winner": "essay_a", "confidence": 90, "score": 3}',
            "unexpected key 'score'",
        ),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_unusable_answers_say_why(text: str, reason: str) -> None:
    with pytest.raises(UnusableAnswer) as refused:
        parse_judgement(text)
    assert reason in refused.value.message
    assert refused.value.status_code == 502 and refused.value.code == "invalid_model_answer"


def test_a_whole_number_written_as_a_decimal_is_accepted() -> None:
    answer = '{"justification": "x", "winner": "essay_a", "confidence": 75.0}'
    assert parse_judgement(answer).confidence == 0.75


def test_the_prompt_shows_the_essays_in_the_asked_order_and_states_the_schema() -> None:
    system, user = comparison_messages("Argue for school uniforms.", "FIRST ESSAY", "SECOND")
    assert system.role == "system" and user.role == "user"
    text = user.text()
    assert "<task>\nArgue for school uniforms.\n</task>" in text
    assert "<essay_a>\nFIRST ESSAY\n</essay_a>" in text
    assert "<essay_b>\nSECOND\n</essay_b>" in text
    for key in ANSWER_SCHEMA["required"]:  # instruct-and-validate: the shape is in the prompt
        assert f'"{key}"' in text
    swapped = comparison_messages("Argue for school uniforms.", "FIRST ESSAY", "SECOND", "ba")
    assert "<essay_a>\nSECOND\n</essay_a>" in swapped[1].text()
    assert "<essay_b>\nFIRST ESSAY\n</essay_b>" in swapped[1].text()


def test_the_response_format_carries_a_schema_a_grammar_can_bound() -> None:
    fmt = response_format()
    assert fmt.type == "json_schema" and fmt.json_schema is not None
    schema = fmt.json_schema.schema_
    assert schema is not None
    assert schema["properties"]["justification"]["maxLength"] == MAX_JUSTIFICATION
    assert schema["properties"]["confidence"] == {"type": "integer", "minimum": 0, "maximum": 100}
    assert fmt.json_schema.strict is None  # OpenAI's strict mode refuses maxLength
    # and the schema is plain JSON
    assert orjson.loads(orjson.dumps(schema)) == ANSWER_SCHEMA


def test_a_retry_quotes_the_refused_answer_bounded_and_says_what_was_wrong() -> None:
    asked = comparison_messages("task", "a", "b")
    rejected = "x" * (MAX_REJECTED_ECHO + 500)
    again = retry_messages(asked, rejected, "the answer is not a JSON object")
    assert again[:2] == asked
    assert again[2].role == "assistant" and again[2].text() == "x" * MAX_REJECTED_ECHO
    assert again[3].role == "user"
    assert "could not be used: the answer is not a JSON object" in again[3].text()
    assert retry_messages(asked, "", "empty")[2].text() == "(empty)"


# -- both orders --------------------------------------------------------------------------------


def test_orders_that_agree_average_their_confidence() -> None:
    ab = Judgement("essay_b", "B argues better", 0.8)
    ba = Judgement("essay_b", "B is more precise", 0.9)
    verdict = combine(ab, ba)
    assert verdict.position_consistent is True
    assert verdict.judgement.winner == "essay_b"
    assert verdict.judgement.confidence == pytest.approx(0.85)
    assert verdict.judgement.justification == "B is more precise"  # the more confident one's


def test_orders_that_disagree_go_to_the_more_confident_with_a_split_confidence() -> None:
    ab = Judgement("essay_a", "A first", 0.6)
    ba = Judgement("essay_b", "B first", 0.9)
    verdict = combine(ab, ba)
    assert verdict.position_consistent is False
    assert verdict.judgement.winner == "essay_b"
    assert verdict.judgement.confidence == pytest.approx(0.65)  # 0.5 + (0.9 - 0.6) / 2
    assert verdict.judgement.justification == "B first"


def test_equally_confident_disagreeing_orders_go_to_the_ab_order() -> None:
    verdict = combine(Judgement("essay_a", "A", 0.7), Judgement("essay_b", "B", 0.7))
    assert verdict == (Judgement("essay_a", "A", 0.5), False)
