"""StreamGuard on canonical chunks: choices kept apart, the end carries what was held back,
chunks left empty are dropped, max_length cuts and blocks, and decisions are recorded once."""

from __future__ import annotations

import pytest

from switchyard.errors import ContentFiltered
from switchyard.guardrails import Policy, StreamGuard
from switchyard.guardrails.settings import MaxLengthGuardrail, PiiGuardrail
from switchyard.records.record import GuardrailDecision, RequestRecord
from switchyard.types import ChatChunk, Principal, Usage

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
