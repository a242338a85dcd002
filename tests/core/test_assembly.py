"""A stream of canonical chunks as one message: text, reasoning, refusal and tool-call argument
pieces joined in order; the last finish reason, fingerprint and model win."""

from __future__ import annotations

from switchyard.types import ChatChunk, ToolCallDelta
from switchyard.types.assembly import assemble


def chunk(**fields: object) -> ChatChunk:
    return ChatChunk.model_validate({"id": "c", "created": 1, "model": "m", **fields})


def test_pieces_join_in_order_and_the_last_facts_win() -> None:
    whole = assemble(
        [
            chunk(reasoning="think "),
            chunk(text="Let me ", reasoning="more"),
            chunk(text="check.", tool_calls=[ToolCallDelta(index=0, id="call_1", name="f")]),
            chunk(tool_calls=[ToolCallDelta(index=0, arguments='{"a": ')]),
            chunk(tool_calls=[ToolCallDelta(index=1, id="call_2", name="g", arguments="{}")]),
            chunk(tool_calls=[ToolCallDelta(index=0, arguments="1}")], model="m-2"),
            chunk(finish_reason="tool_calls", system_fingerprint="fp"),
        ]
    )
    message = whole.message
    assert message.content == "Let me check." and message.reasoning == "think more"
    assert message.tool_calls is not None
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
        ("call_1", "f", '{"a": 1}'),
        ("call_2", "g", "{}"),
    ]
    assert whole.finish_reason == "tool_calls" and whole.system_fingerprint == "fp"
    assert whole.model == "m" and whole.last is not None


def test_no_chunks_is_an_empty_message_and_no_last() -> None:
    whole = assemble([])
    assert whole.last is None and whole.message.content == "" and whole.message.tool_calls is None
