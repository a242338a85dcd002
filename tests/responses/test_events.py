"""Canonical chunks -> the Responses API's streamed events (pure): the exact sequence OpenAI's
streaming reference gives, every event numbered, items built as clients rebuild them."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.doors.responses.events import ResponseEvents, failure_code
from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ProviderUnavailable,
    QuotaExceeded,
    RateLimited,
)
from switchyard.types import ChatChunk, ToolCallDelta, Usage

BODY: dict[str, Any] = {"input": "hi", "instructions": "Be brief.", "store": False}


def chunk(**fields: Any) -> ChatChunk:
    return ChatChunk(id="up-1", created=1, model="claude-x", **fields)


def events(data: bytes) -> list[dict[str, Any]]:
    out = []
    for block in data.decode().split("\n\n"):
        if not block:
            continue
        name, payload = block.split("\n")
        parsed = orjson.loads(payload.removeprefix("data: "))
        assert name == f"event: {parsed['type']}"
        out.append(parsed)
    return out


def run(chunks: list[ChatChunk], *, sealed: bool = True) -> tuple[list[dict[str, Any]], list[Any]]:
    done: list[Any] = []
    framing = ResponseEvents("resp_1", "smart", BODY, sealed=lambda: sealed, on_done=done.append)
    data = b"".join(framing.chunk(c) for c in chunks) + framing.end()
    return events(data), done


def test_thinking_text_and_two_calls() -> None:
    got, done = run(
        [
            chunk(role="assistant"),
            chunk(reasoning="Think"),
            chunk(reasoning="ing."),
            chunk(signature="SIG"),
            chunk(text="Hello"),
            chunk(text=" there."),
            chunk(tool_calls=[ToolCallDelta(index=0, id="call_a", name="f", arguments='{"a":')]),
            chunk(tool_calls=[ToolCallDelta(index=1, id="call_b", name="g", arguments="{}")]),
            chunk(tool_calls=[ToolCallDelta(index=0, arguments="1}")]),
            chunk(finish_reason="tool_calls"),
            chunk(
                usage=Usage(
                    input_tokens=10, output_tokens=6, cached_input_tokens=4, reasoning_tokens=2
                )
            ),
        ]
    )
    assert [e["type"] for e in got] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in got] == list(range(len(got)))
    created = got[0]["response"]
    assert created["status"] == "in_progress" and created["id"] == "resp_1"
    assert created["model"] == "claude-x" and created["instructions"] == "Be brief."
    final = got[-1]["response"]
    assert final["status"] == "completed"
    reasoning, message, first, second = final["output"]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Thinking."}]
    assert reasoning["encrypted_content"] == "sy.thinking.SIG"
    assert message["content"][0]["text"] == "Hello there."
    assert (first["call_id"], first["arguments"], first["status"]) == (
        "call_a",
        '{"a":1}',
        "completed",
    )
    assert (second["call_id"], second["name"]) == ("call_b", "g")
    assert [e["output_index"] for e in got if e["type"] == "response.output_item.done"] == [
        0,
        1,
        2,
        3,
    ]
    assert final["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
        "output_tokens": 6,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 16,
    }
    assert done == [final]


def test_a_responses_upstreams_reasoning_is_not_sealed() -> None:
    got, _ = run([chunk(signature="gAAAA-openai"), chunk(text="ok")], sealed=False)
    reasoning = got[-1]["response"]["output"][0]
    assert reasoning["encrypted_content"] == "gAAAA-openai" and reasoning["summary"] == []


def test_length_is_incomplete() -> None:
    got, _ = run([chunk(text="cut"), chunk(finish_reason="length")])
    assert got[-1]["type"] == "response.incomplete"
    assert got[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_an_empty_stream_still_starts_and_ends() -> None:
    got, _ = run([])
    assert [e["type"] for e in got] == [
        "response.created",
        "response.in_progress",
        "response.completed",
    ]


def test_a_failure_after_the_first_byte_ends_with_response_failed() -> None:
    done: list[Any] = []
    framing = ResponseEvents("resp_2", "smart", BODY, on_done=done.append)
    data = framing.chunk(chunk(text="par")) + framing.error(ProviderUnavailable("upstream broke"))
    got = events(data)
    assert got[-1]["type"] == "response.failed"
    failed = got[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "server_error"
    assert "upstream broke" in failed["error"]["message"]
    assert [e["sequence_number"] for e in got] == list(range(len(got)))
    assert done == []  # a failed response is not stored


def test_failure_codes_are_the_references_and_those_clients_act_on() -> None:
    assert failure_code(RateLimited("slow")) == "rate_limit_exceeded"
    assert failure_code(QuotaExceeded("spent")) == "insufficient_quota"
    assert failure_code(ContextLengthExceeded("long")) == "context_length_exceeded"
    assert failure_code(InvalidRequest("bad")) == "invalid_prompt"
    assert failure_code(ProviderUnavailable("down")) == "server_error"
