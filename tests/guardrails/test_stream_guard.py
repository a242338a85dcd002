"""StreamGuard on canonical chunks: choices kept apart, the end carries what was held back,
chunks left empty are dropped, max_length cuts and blocks, and decisions are recorded once."""

from __future__ import annotations

import pytest

from switchyard.errors import ContentFiltered
from switchyard.guardrails import Policy, StreamGuard
from switchyard.guardrails.settings import MaxLengthGuardrail, PiiGuardrail
from switchyard.records.record import GuardrailDecision, RequestRecord
from switchyard.types import ChatChunk, Principal, ToolCallDelta, Usage

CARD = "4111 1111 1111 1111"


def record() -> RequestRecord:
    return RequestRecord(Principal("r"), "stream", "guarded", started_at=0.0, started=0.0)


def chunk(text: str | None = None, index: int = 0, **fields: object) -> ChatChunk:
    return ChatChunk(id="c", created=1, model="m", index=index, text=text, **fields)  # type: ignore[arg-type]


def guard(*settings: object, on: RequestRecord | None = None) -> StreamGuard:
    policy = Policy.of([s.rule for s in settings])  # type: ignore[attr-defined]
    assert policy is not None
    made = policy.stream_guard(on or record())
    assert made is not None
    return made


def run(g: StreamGuard, chunks: list[ChatChunk]) -> list[ChatChunk]:
    out = [c for c in (g.chunk(c) for c in chunks) if c is not None]
    return out + g.tail()


def text_of(chunks: list[ChatChunk], index: int = 0) -> str:
    return "".join(c.text or "" for c in chunks if c.index == index)


def test_choices_are_scanned_apart_and_each_end_carries_its_rest() -> None:
    g = guard(PiiGuardrail(on="output", action="redact", detect=["credit_card"]))
    out = run(g, [
        chunk(role="assistant"), chunk(role="assistant", index=1),
        chunk("card 4111 1111 "), chunk("no card 4111 ", index=1),
        chunk("1111 1111."), chunk("here.", index=1),
        chunk(finish_reason="stop"), chunk(finish_reason="stop", index=1),
        chunk(usage=Usage(input_tokens=1, output_tokens=2), index=0),
    ])  # fmt: skip
    assert text_of(out) == "card [REDACTED:CREDIT_CARD]."
    assert text_of(out, 1) == "no card 4111 here."
    assert [c.finish_reason for c in out if c.text] == ["stop", "stop"]  # held until the end
    assert out[-1].usage is not None


def test_chunks_left_with_nothing_are_dropped_and_a_stream_without_a_finish_gets_a_tail() -> None:
    g = guard(PiiGuardrail(on="output", action="redact", detect=["credit_card"]))
    assert g.chunk(chunk("some text")) is None  # all of it held back, nothing else in it
    kept = g.chunk(chunk("more", role="assistant"))
    assert kept is not None and kept.text is None and kept.role == "assistant"
    tail = g.tail()
    assert [c.text for c in tail] == ["some textmore"] and tail[0].id == "c"
    assert g.tail() == []


def test_max_length_cuts_a_stream_or_blocks_it_and_is_recorded_once() -> None:
    seen = record()
    g = guard(MaxLengthGuardrail(on="output", action="redact", max_chars=10), on=seen)
    out = run(g, [chunk("0123456"), chunk("789abc"), chunk("def"), chunk(finish_reason="stop")])
    assert text_of(out) == "0123456789"
    assert seen.guardrails == (GuardrailDecision("max_length", "output", "redact"),)
    blocking = guard(MaxLengthGuardrail(on="output", action="block", max_chars=10))
    assert blocking.chunk(chunk("0123456")) is not None
    with pytest.raises(ContentFiltered, match="max_length"):
        blocking.chunk(chunk("789abc"))


def test_a_card_redacted_in_the_stream_is_recorded_once_however_many_there_are() -> None:
    seen = record()
    g = guard(PiiGuardrail(on="output", action="redact"), on=seen)
    run(g, [chunk(f"{CARD} and {CARD}"), chunk(f" and {CARD}"), chunk(finish_reason="stop")])
    assert seen.guardrails == (GuardrailDecision("pii", "output", "redact"),)


def piece(index: int, arguments: str, **fields: object) -> ChatChunk:
    return chunk(tool_calls=[ToolCallDelta(index=index, arguments=arguments, **fields)])  # type: ignore[arg-type]


def test_a_tool_call_is_held_whole_and_released_redacted_in_order() -> None:
    g = guard(PiiGuardrail(on="output", action="redact", detect=["credit_card"]))
    out = run(g, [
        chunk(role="assistant"),
        piece(0, "", id="c1", name="charge"), piece(0, '{"card": "4111 11'),
        piece(0, '11 1111 1111"}'),
        piece(1, '{"a": 1}', id="c2", name="other"),  # the next call: the first is whole
        chunk(finish_reason="tool_calls"),
    ])  # fmt: skip
    calls = [(c.tool_calls, c.finish_reason) for c in out if c.tool_calls]
    assert len(calls) == 2 and calls[1][1] == "tool_calls"  # the second, with the finish
    first, second = calls[0][0], calls[1][0]
    assert first is not None and second is not None
    assert (first[0].id, first[0].name, first[0].arguments) == (
        "c1",
        "charge",
        '{"card": "[REDACTED:CREDIT_CARD]"}',
    )
    assert (second[0].index, second[0].arguments) == (1, '{"a": 1}')


def test_a_held_tool_call_is_released_by_the_tail_blocked_or_dropped_by_a_failover() -> None:
    g = guard(PiiGuardrail(on="output", action="redact", detect=["credit_card"]))
    assert g.chunk(piece(0, '{"x": 1}', id="c1", name="f")) is None  # held
    tail = g.tail()  # a stream that ended without a finish_reason
    assert tail[0].tool_calls is not None and tail[0].tool_calls[0].arguments == '{"x": 1}'

    dropped = guard(PiiGuardrail(on="output", action="redact", detect=["credit_card"]))
    dropped.chunk(piece(0, '{"x": 1}', id="c1", name="f"))
    dropped.discard()  # continued elsewhere, which says the call again
    assert dropped.tail() == []

    blocking = guard(PiiGuardrail(on="output", action="block", detect=["credit_card"]))
    blocking.chunk(piece(0, f'{{"card": "{CARD}"', id="c1", name="f"))
    with pytest.raises(ContentFiltered):
        blocking.chunk(chunk(finish_reason="tool_calls"))


def test_without_pattern_guardrails_tool_calls_stream_as_they_come() -> None:
    g = guard(MaxLengthGuardrail(on="output", action="redact", max_chars=5))
    passed = g.chunk(piece(0, '{"card": "', id="c1", name="f"))
    assert passed is not None and passed.tool_calls is not None
    assert passed.tool_calls[0].arguments == '{"card": "'
