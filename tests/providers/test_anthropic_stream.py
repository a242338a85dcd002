"""The ``anthropic`` stream translator, replayed from event sequences shaped like Anthropic's
streaming reference (https://platform.claude.com/docs/en/build-with-claude/streaming)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from switchyard.errors import (
    InvalidRequest,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    UpstreamProtocolError,
)
from switchyard.providers.anthropic.stream import StreamTranslator
from switchyard.streaming.sse import SseEvent
from switchyard.types import ChatChunk, ResponseFormat
from tests.fakes.anthropic_upstream import (
    Event,
    block_start,
    block_stop,
    error_event,
    json_delta,
    message_delta,
    message_start,
    message_stop,
    ping,
    signature_delta,
    text_block,
    text_delta,
    thinking_block,
    thinking_delta,
    tool_use_block,
)

PARIS = ['{"loc', 'ation": "Par', 'is, France", "un', 'it": "celsius"}']
OSLO = ['{"location"', ': "Oslo"}']


def sse(events: list[Event]) -> list[SseEvent]:
    return [SseEvent(orjson.dumps(data).decode(), name) for name, data in events]


def replay(events: list[Event], **options: Any) -> list[ChatChunk]:
    translator = StreamTranslator("claude", created=1700000000, **options)
    chunks = [chunk for event in sse(events) for chunk in translator.feed(event)]
    assert translator.done
    return chunks + translator.finish()


def text_then_two_tools() -> list[Event]:
    """A text block, then two parallel tool_use blocks (block indices 1 and 2)."""
    return [
        message_start(input_tokens=472, cache_read=100),
        block_start(0, text_block("")),
        text_delta(0, "Okay, let me check"),
        ping(),
        text_delta(0, " both cities."),
        block_stop(0),
        block_start(1, tool_use_block("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", {})),
        json_delta(1, ""),
        *(json_delta(1, piece) for piece in PARIS),
        block_stop(1),
        block_start(2, tool_use_block("toolu_01CeWV1YJhvTmkdiWV4d1RzT", "get_weather", {})),
        *(json_delta(2, piece) for piece in OSLO),
        block_stop(2),
        message_delta("tool_use", 89),
        message_stop(),
    ]


def test_text_then_parallel_tool_calls() -> None:
    chunks = replay(text_then_two_tools())
    assert {(c.id, c.created, c.model) for c in chunks} == {
        ("msg_014p7gG3wDgGV9EUtLvnow3U", 1700000000, "claude-sonnet-4-5-20250929")
    }
    assert [c.role for c in chunks if c.role] == ["assistant"] and chunks[0].role
    assert "".join(c.text or "" for c in chunks) == "Okay, let me check both cities."
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert [(d.index, d.id, d.name) for d in deltas if d.id] == [
        (0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
        (1, "toolu_01CeWV1YJhvTmkdiWV4d1RzT", "get_weather"),
    ]
    for index, pieces in [(0, PARIS), (1, OSLO)]:
        assert "".join(d.arguments or "" for d in deltas if d.index == index) == "".join(pieces)
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]
    assert chunks[-1].finish_reason == "tool_calls"
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (572, 100, 89)


def test_a_tool_call_without_input_pieces_gets_an_empty_object() -> None:
    chunks = replay(
        [
            message_start(),
            block_start(0, tool_use_block("toolu_1", "get_time", {})),
            json_delta(0, ""),
            block_stop(0),
            block_start(1, tool_use_block("toolu_2", "get_date", {"tz": "UTC"})),
            block_stop(1),
            message_delta("tool_use", 12),
            message_stop(),
        ]
    )
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert "".join(d.arguments or "" for d in deltas if d.index == 0) == "{}"
    assert "".join(d.arguments or "" for d in deltas if d.index == 1) == '{"tz":"UTC"}'


def test_thinking_is_reasoning_and_signatures_and_redacted_thinking_are_kept() -> None:
    chunks = replay(
        [
            message_start(),
            block_start(0, thinking_block("", signature="")),
            thinking_delta(0, "Let me solve this step by step:\n\n1. First break down 27 * 453"),
            thinking_delta(0, "\n2. 453 = 400 + 50 + 3"),
            signature_delta(0, "EqQBCgIYAhIM"),
            block_stop(0),
            block_start(1, {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}),
            block_stop(1),
            block_start(2, text_block("")),
            text_delta(2, "27 * 453 = 12,231"),
            block_stop(2),
            message_delta("end_turn", 120),
            message_stop(),
        ]
    )
    reasoning = "".join(c.reasoning or "" for c in chunks)
    assert reasoning.startswith("Let me solve") and reasoning.endswith("50 + 3")
    assert "".join(c.text or "" for c in chunks) == "27 * 453 = 12,231"
    assert chunks[0].role == "assistant" and chunks[0].reasoning
    assert [c.signature for c in chunks if c.signature] == ["EqQBCgIYAhIM"]
    assert [c.redacted_thinking for c in chunks if c.redacted_thinking] == ["EmwKAhgBEgy3va3pzix"]
    assert chunks[-1].finish_reason == "stop"


def test_message_delta_usage_replaces_the_start_counts() -> None:
    events = [
        message_start(input_tokens=10, cache_creation=5),
        block_start(0, text_block("")),
        text_delta(0, "Hi"),
        block_stop(0),
        message_delta(
            "max_tokens",
            64,
            input_tokens=12,
            cache_creation_input_tokens=5,
            cache_read_input_tokens=3,
        ),
        message_stop(),
    ]
    last = replay(events)[-1]
    assert last.finish_reason == "length"
    assert last.usage is not None
    assert (last.usage.input_tokens, last.usage.cached_input_tokens) == (20, 3)
    assert last.usage.output_tokens == 64


def test_a_reply_with_no_content_still_finishes_with_the_role() -> None:
    chunks = replay([message_start(), message_delta("end_turn", 1), message_stop()])
    assert len(chunks) == 1
    assert (chunks[0].role, chunks[0].finish_reason) == ("assistant", "stop")


def test_ping_unknown_events_and_unknown_deltas_are_skipped() -> None:
    citation = {"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "x"}}
    events: list[Event] = [
        ping(),
        message_start(),
        ("message_annotation", {"type": "message_annotation", "whatever": [1, 2]}),
        block_start(0, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search"}),
        json_delta(0, '{"query": "weather"}'),
        block_stop(0),
        block_start(1, text_block("")),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": citation}),
        text_delta(1, "Sunny."),
        block_stop(1),
        message_delta("end_turn", 5),
        message_stop(),
    ]
    chunks = replay(events)
    assert [c.text for c in chunks if c.text] == ["Sunny."]
    assert not any(c.tool_calls for c in chunks)


def test_events_after_message_stop_are_ignored() -> None:
    translator = StreamTranslator("claude", created=1)
    for event in sse([message_start(), message_stop()]):
        translator.feed(event)
    assert translator.feed(sse([text_delta(0, "late")])[0]) == []


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("overloaded_error", ProviderUnavailable),
        ("rate_limit_error", RateLimited),
        ("invalid_request_error", InvalidRequest),
    ],
)
def test_an_error_event_raises_the_mapped_error(kind: str, expected: type[SwitchyardError]) -> None:
    translator = StreamTranslator("claude", created=1)
    events = sse([message_start(), block_start(0, text_block("")), text_delta(0, "Hel")])
    chunks = [chunk for event in events for chunk in translator.feed(event)]
    assert [c.text for c in chunks] == ["Hel"]
    with pytest.raises(expected) as caught:
        translator.feed(sse([error_event(kind, "stop")])[0])
    assert caught.value.provider == "claude"


def test_an_error_event_named_only_by_the_sse_event_field() -> None:
    translator = StreamTranslator("claude", created=1)
    with pytest.raises(ProviderUnavailable):
        translator.feed(
            SseEvent('{"error": {"type": "overloaded_error", "message": "x"}}', "error")
        )


def test_a_stream_without_message_stop_was_cut() -> None:
    translator = StreamTranslator("claude", created=1)
    for event in sse([message_start(), block_start(0, text_block("")), text_delta(0, "Hi")]):
        translator.feed(event)
    with pytest.raises(ProviderUnavailable):
        translator.finish()


@pytest.mark.parametrize(
    "event",
    [
        SseEvent("{not json", "content_block_delta"),
        SseEvent("[1, 2]", "content_block_delta"),
        SseEvent('{"type": "content_block_delta", "index": 0}', "content_block_delta"),
        SseEvent('{"type": "message_start", "message": {"content": []}}', "message_start"),
    ],
)
def test_unreadable_events_are_protocol_errors(event: SseEvent) -> None:
    translator = StreamTranslator("claude", created=1)
    with pytest.raises(UpstreamProtocolError) as caught:
        translator.feed(event)
    assert caught.value.provider == "claude"


def test_content_before_message_start_is_a_protocol_error() -> None:
    translator = StreamTranslator("claude", created=1)
    with pytest.raises(UpstreamProtocolError):
        translator.feed(sse([text_delta(0, "Hi")])[0])
    with pytest.raises(UpstreamProtocolError):
        translator.feed(sse([message_start(), block_start(0, {"type": "tool_use"})])[1])


def text_stream(pieces: list[str], stop_reason: str = "end_turn") -> list[Event]:
    return [
        message_start(),
        block_start(0, text_block("")),
        *(text_delta(0, piece) for piece in pieces),
        block_stop(0),
        message_delta(stop_reason, 9),
        message_stop(),
    ]


def test_json_mode_checks_the_whole_reply_at_the_end() -> None:
    fmt = ResponseFormat(type="json_object")
    chunks = replay(text_stream(['{"capital"', ': "Paris"}']), response_format=fmt)
    assert "".join(c.text or "" for c in chunks) == '{"capital": "Paris"}'
    # cut short by max_tokens: the caller sees finish_reason "length" instead
    assert replay(text_stream(['{"cap'], "max_tokens"), response_format=fmt)[-1].finish_reason == (
        "length"
    )
    translator = StreamTranslator("claude", created=1, response_format=fmt)
    events = sse(text_stream(["Sure! Here", " it is."]))
    with pytest.raises(UpstreamProtocolError):
        for event in events:
            translator.feed(event)
