"""The ``openai`` adapter's Responses API translation (pure): the canonical request as a
``POST /responses`` body, and OpenAI's ``Response`` object and streamed events back."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from switchyard.errors import ProviderUnavailable, RateLimited
from switchyard.providers.openai.responses import (
    ResponsesStreamTranslator,
    request_to_responses,
    response_from_responses,
)
from switchyard.streaming.sse import SseEvent
from switchyard.types import ChatRequest, FormatFields, ThinkingBlock
from tests.fakes.responses_upstream import (
    call_events,
    completed,
    function_call_item,
    message_events,
    message_item,
    reasoning_events,
    reasoning_item,
    response,
    started,
    usage,
)


def test_canonical_request_as_a_responses_body() -> None:
    chat = ChatRequest.model_validate(
        {
            "model": "gpt-5",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Look:"},
                        {"type": "image", "url": "https://x/cat.png"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": "Calling.",
                    "thinking": [{"type": "thinking", "thinking": "hm", "signature": "gAAA"}],
                    "tool_calls": [{"id": "call_1", "name": "f", "arguments": '{"x":1}'}],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            ],
            "tools": [{"name": "f", "parameters": {"type": "object"}}],
            "tool_choice": {"name": "f"},
            "max_tokens": 100,
            "temperature": 0.5,
            "stop": ["END"],
            "reasoning": {"effort": "high"},
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "a", "schema": {"type": "object"}, "strict": True},
            },
        }
    )
    body = request_to_responses(chat, stream=True)
    assert body["input"] == [
        {"type": "message", "role": "system", "content": "Be brief."},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Look:"},
                {"type": "input_image", "image_url": "https://x/cat.png", "detail": "auto"},
            ],
        },
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "hm"}],
            "encrypted_content": "gAAA",
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Calling.", "annotations": []}],
        },
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": '{"x":1}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
    ]
    assert body["tools"] == [
        {"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": False}
    ]
    assert body["tool_choice"] == {"type": "function", "name": "f"}
    assert body["max_output_tokens"] == 100 and body["temperature"] == 0.5
    assert body["reasoning"] == {"effort": "high"}
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "a", "schema": {"type": "object"}, "strict": True}
    }
    assert body["stream"] is True and body["store"] is False
    assert "stop" not in body


def test_the_callers_responses_fields_are_merged_unchanged() -> None:
    raw = {
        "input": [
            {"type": "item_reference", "id": "msg_1"},
            {"type": "message", "id": "msg_2", "role": "user", "content": "y"},
        ],
        "tools": [{"type": "web_search"}],
        "include": ["reasoning.encrypted_content"],
        "previous_response_id": "resp_gateway_own",
        "store": True,
    }
    chat = ChatRequest(
        model="gpt-5",
        messages=[{"role": "user", "content": "x"}],
        format_fields=FormatFields(format="openai_responses", fields=raw),
    )
    body = request_to_responses(chat, stream=False)
    assert body == {
        "model": "gpt-5",
        "input": [  # the gateway's item ids are left out; a reference is only its id
            {"type": "item_reference", "id": "msg_1"},
            {"type": "message", "role": "user", "content": "y"},
        ],
        "tools": raw["tools"],
        "include": raw["include"],
        "store": True,
    }
    other = chat.model_copy(update={"format_fields": FormatFields(format="anthropic", fields=raw)})
    assert request_to_responses(other, stream=False)["input"][0]["content"] == "x"


def test_a_response_object_as_canonical() -> None:
    payload = response(
        [
            reasoning_item("Plan.", "gAAAA"),
            message_item("Hi"),
            function_call_item("call_2", "f", "{}"),
        ],
        usage=usage(30, 10, cached=20, reasoning=4),
    )
    got = response_from_responses(payload, "oai")
    message = got.message
    assert message.text() == "Hi" and message.reasoning == "Plan."
    assert message.thinking == [ThinkingBlock(thinking="Plan.", signature="gAAAA")]
    assert message.tool_calls is not None and message.tool_calls[0].id == "call_2"
    assert got.choices[0].finish_reason == "tool_calls"
    assert (got.usage.input_tokens, got.usage.cached_input_tokens) == (30, 20)
    assert (got.usage.output_tokens, got.usage.reasoning_tokens) == (10, 4)
    cut = response([message_item("par")], status="incomplete", incomplete="max_output_tokens")
    assert response_from_responses(cut, "oai").choices[0].finish_reason == "length"
    failed = response([], status="failed", error={"code": "rate_limit_exceeded", "message": "slow"})
    with pytest.raises(RateLimited):
        response_from_responses(failed, "oai")


def feed_all(
    events: list[tuple[str, dict[str, Any]]],
) -> tuple[ResponsesStreamTranslator, list[Any]]:
    translator = ResponsesStreamTranslator("oai")
    chunks = []
    for n, (name, payload) in enumerate(events):
        data = orjson.dumps({**payload, "sequence_number": n}).decode()
        chunks.extend(translator.feed(SseEvent(data=data, event=name)))
    return translator, chunks


def test_a_streamed_response_as_chunks() -> None:
    reasoning = reasoning_item("Plan.", "gAAAA", id="rs_1")
    call = function_call_item("call_3", "f", '{"a":1}', id="fc_1")
    translator, chunks = feed_all(
        [
            *started("resp_9"),
            *reasoning_events(reasoning, 0),
            *message_events("Hi you", 1, "msg_1"),
            *call_events(call, 2, ['{"a":', "1}"]),
            completed("resp_9", [reasoning, call], usage(5, 6)),
        ]
    )
    assert translator.done
    assert chunks[0].role == "assistant" and chunks[0].id == "resp_9"
    assert "".join(c.reasoning or "" for c in chunks) == "Plan."
    assert [c.signature for c in chunks if c.signature] == ["gAAAA"]
    assert "".join(c.text or "" for c in chunks) == "Hi you"
    calls = [d for c in chunks for d in c.tool_calls or ()]
    assert (calls[0].id, calls[0].name) == ("call_3", "f")
    assert "".join(d.arguments or "" for d in calls) == '{"a":1}'
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 6


def test_a_stream_without_its_terminal_event_was_cut() -> None:
    translator, _ = feed_all(started("resp_x"))
    with pytest.raises(ProviderUnavailable):
        translator.finish()
