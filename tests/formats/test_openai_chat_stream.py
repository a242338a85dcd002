"""The OpenAI chat codec's stream chunks: upstream chunks read (``chunks_from_openai``) and
canonical chunks rendered (``chunk_to_openai``), replayed over real recorded OpenAI streams and
checked against OpenAI's OpenAPI description."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.errors import UpstreamProtocolError
from switchyard.formats.openai_chat import (
    chunk_from_openai,
    chunk_to_openai,
    chunk_to_openai_payloads,
    chunks_from_openai,
)
from switchyard.types import ChatChunk, ToolCallDelta, Usage
from tests.fakes.cassettes import load_cassette
from tests.fakes.openapi_schema import assert_valid
from tests.formats.chat_cassettes import CHAT_CASSETTES

STREAMS = [name for name in CHAT_CASSETTES if load_cassette(name).is_stream]


# -- cassette replay ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAMS)
def test_streams_reassemble_and_each_chunk_round_trips(name: str) -> None:
    cassette = load_cassette(name)
    payloads = [_json(data) for data in cassette.sse_data if data != "[DONE]"]
    expected_text = "".join(
        choice["delta"].get("content") or "" for p in payloads for choice in p["choices"]
    )

    chunks = [chunk for payload in payloads for chunk in chunks_from_openai(payload)]

    assert "".join(chunk.text or "" for chunk in chunks) == expected_text
    assert chunks[0].role == "assistant"
    finishes = [chunk.finish_reason for chunk in chunks if chunk.finish_reason]
    assert finishes == [
        choice["finish_reason"]
        for p in payloads
        for choice in p["choices"]
        if choice["finish_reason"]
    ]
    for chunk in chunks:
        rendered = chunk_to_openai(chunk)
        assert_valid("CreateChatCompletionStreamResponse", rendered)
        assert chunk_from_openai(rendered) == chunk


def test_streamed_usage_arrives_in_a_chunk_without_choices() -> None:
    payloads = [
        _json(data)
        for data in load_cassette("chat-streaming-detailed-usage").sse_data
        if data != "[DONE]"
    ]
    last = chunks_from_openai(payloads[-1])
    assert len(last) == 1
    assert last[0].usage == Usage(input_tokens=12, output_tokens=100, reasoning_tokens=100)
    rendered = chunk_to_openai(last[0])
    assert rendered["choices"] == []
    assert rendered["usage"]["prompt_tokens"] == 12
    assert_valid("CreateChatCompletionStreamResponse", rendered)


def test_streamed_tool_calls_keep_every_piece_verbatim() -> None:
    # The shape OpenAI streams parallel tool calls in: id, type and name first, then pieces.
    pieces = ['{"loc', 'ation": "Bos', "ton, MA\\u00e9", '", "unit": ', '"celsius"}']
    envelope = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(tool_calls: list[dict[str, Any]] | None, finish: str | None = None) -> dict[str, Any]:
        delta = {"tool_calls": tool_calls} if tool_calls else {}
        return {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    wire = [
        chunk(
            [
                {
                    "index": 0,
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "weather", "arguments": ""},
                }
            ]
        ),
        *(chunk([{"index": 0, "function": {"arguments": piece}}]) for piece in pieces),
        chunk(
            [
                {
                    "index": 1,
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "time", "arguments": "{}"},
                }
            ]
        ),
        chunk(None, "tool_calls"),
    ]

    chunks = [chunk_from_openai(payload) for payload in wire]

    deltas = [delta for c in chunks for delta in c.tool_calls or ()]
    assert deltas[0] == ToolCallDelta(index=0, id="call_a", name="weather", arguments="")
    assert "".join(d.arguments or "" for d in deltas if d.index == 0) == "".join(pieces)
    assert deltas[-1] == ToolCallDelta(index=1, id="call_b", name="time", arguments="{}")
    assert chunks[-1].finish_reason == "tool_calls"
    for original, parsed in zip(wire, chunks, strict=True):
        rendered = chunk_to_openai(parsed)
        assert_valid("CreateChatCompletionStreamResponse", rendered)
        assert rendered["choices"][0]["delta"] == original["choices"][0]["delta"]


# -- chunks -------------------------------------------------------------------------------------


def test_usage_only_chunk_renders_with_empty_choices() -> None:
    chunk = ChatChunk(id="c", created=1, model="m", usage=Usage(input_tokens=2, output_tokens=3))
    rendered = chunk_to_openai(chunk)
    assert rendered["choices"] == [] and rendered["usage"]["total_tokens"] == 5
    assert_valid("CreateChatCompletionStreamResponse", rendered)


def test_payloads_split_usage_off_as_openai_does() -> None:
    chunk = ChatChunk(
        id="c", created=1, model="m", finish_reason="stop", usage=Usage(input_tokens=1)
    )
    finish, usage = chunk_to_openai_payloads(chunk)
    assert finish["choices"][0]["finish_reason"] == "stop" and "usage" not in finish
    assert usage["choices"] == [] and usage["usage"]["prompt_tokens"] == 1
    assert chunk_to_openai_payloads(chunk, include_usage=False) == [finish]
    usage_only = ChatChunk(id="c", created=1, model="m", usage=Usage())
    assert chunk_to_openai_payloads(usage_only, include_usage=False) == []
    for payload in (finish, usage):
        assert_valid("CreateChatCompletionStreamResponse", payload)


def test_chunk_text_reasoning_and_refusal_deltas() -> None:
    chunk = ChatChunk(
        id="c", created=1, model="m", role="assistant", text="", reasoning="r", refusal="no"
    )
    rendered = chunk_to_openai(chunk)
    assert rendered["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "",
        "reasoning_content": "r",
        "refusal": "no",
    }
    assert_valid("CreateChatCompletionStreamResponse", rendered)
    assert chunk_from_openai(rendered) == chunk


def test_chunks_with_several_choices_and_empty_chunks() -> None:
    body = {
        "id": "c",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "delta": {"content": "a"}, "finish_reason": None},
            {"index": 1, "delta": {"content": "b"}, "finish_reason": None},
        ],
    }
    assert [(c.index, c.text) for c in chunks_from_openai(body)] == [(0, "a"), (1, "b")]
    with pytest.raises(UpstreamProtocolError):
        chunk_from_openai(body)
    azure_preamble = {
        "id": "",
        "created": 0,
        "model": "",
        "choices": [],
        "prompt_filter_results": [],
    }
    assert chunks_from_openai(azure_preamble) == []
    assert chunk_from_openai(azure_preamble) == ChatChunk(id="", created=0, model="")


def test_tool_call_delta_without_index_uses_its_position() -> None:
    body = {
        "id": "c",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "delta": {"tool_calls": [{"id": "a", "function": {"name": "f"}}]}}
        ],
    }
    assert chunk_from_openai(body).tool_calls == [ToolCallDelta(index=0, id="a", name="f")]


@pytest.mark.parametrize(
    "body",
    [{"choices": "x"}, {"choices": [{"delta": {"content": 5}}]}, {"usage": {"prompt_tokens": "x"}}],
)
def test_malformed_chunks_are_protocol_errors(body: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError):
        chunks_from_openai(body)


def _json(data: str) -> dict[str, Any]:
    import orjson

    parsed: dict[str, Any] = orjson.loads(data)
    return parsed


def test_a_chunk_with_only_a_thinking_signature_or_redacted_thinking_sends_nothing() -> None:
    """Anthropic's signatures and redacted thinking have no place in OpenAI's format."""
    for fields in ({"signature": "EqQBCgIY"}, {"redacted_thinking": "EmwKAhgB"}):
        chunk = ChatChunk(id="msg_1", created=0, model="claude", **fields)
        assert chunk_to_openai_payloads(chunk) == []
    with_text = ChatChunk(id="msg_1", created=0, model="claude", text="hi", signature="Eq")
    assert chunk_to_openai_payloads(with_text)[0]["choices"][0]["delta"] == {"content": "hi"}
