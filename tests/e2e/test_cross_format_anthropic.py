"""Across formats: the official `openai` SDK -> the served gateway -> the `anthropic` adapter ->
a fake Anthropic Messages API on 127.0.0.1. What the SDK reassembles must be what Anthropic
sent: tool-call arguments byte for byte, plain and streamed, parallel calls after a text block
in their own indices 0 and 1, and Anthropic's stop reasons on OpenAI's finish reasons."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.e2e.cross_format import cross_format_fixtures, function_tool, read_stream, tool_call_turn
from tests.fakes.anthropic_upstream import (
    AnthropicUpstream,
    Reply,
    block_start,
    block_stop,
    error_event,
    error_reply,
    json_delta,
    message,
    message_delta,
    message_start,
    message_stop,
    raw_message_reply,
    stream_reply,
    system_text,
    text_block,
    text_delta,
    tool_use_block,
    usage,
)

TOOLS: Any = [
    function_tool(
        "get_weather",
        "Current weather for a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
]
ASK: Any = [
    {"role": "system", "content": "You are a weather assistant."},
    {"role": "user", "content": "Weather in Paris and in Zürich?"},
]
# what the upstream sends, kept exactly: odd spacing, an escaped and a literal non-ASCII char
PARIS_PIECES = ['{"ci', 'ty": "Par', 'is", "unit" :', ' "celsius"}']
ZURICH_PIECES = ['{ "city":', ' "Z\\u00fcrich" ', "}"]
PARIS_RAW = '{"city": "Paris",  "unit" : "celsius"}'
ZURICH_RAW = '{ "city": "Zürich", "note": "caf\\u00e9" }'


def gateway_config(anthropic: AnthropicUpstream) -> dict[str, Any]:
    return {
        "providers": {
            "claude": {
                "type": "anthropic",
                "base_url": anthropic.base_url,
                "api_key": "sk-ant-upstream",
            }
        },
        "models": [
            {"name": "smart", "deployments": [{"provider": "claude", "model": "claude-sonnet-4-5"}]}
        ],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(AnthropicUpstream, gateway_config)


def test_plain_chat_with_a_system_prompt_and_cache_usage(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    used = usage(50, 12, cache_creation=30, cache_read=1000)
    upstream.script(Reply.json(message([text_block("Sunny in both.")], usage=used)))
    raw = client.chat.completions.with_raw_response.create(
        model="smart",
        messages=ASK,
        extra_body={"cache_breakpoints": ["system"]},
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Sunny in both."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (1080, 12)
    details = completion.usage.prompt_tokens_details
    assert details is not None and details.cached_tokens == 1000
    assert raw.headers["x-switchyard-provider"] == "claude"
    sent = upstream.last_request
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-upstream"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json["system"] == [
        {
            "type": "text",
            "text": "You are a weather assistant.",
            "cache_control": {"type": "ephemeral"},
        }
    ]
    assert sent.json["messages"] == [{"role": "user", "content": "Weather in Paris and in Zürich?"}]
    assert sent.json["max_tokens"] > 0 and "cache_breakpoints" not in sent.json


def test_plain_parallel_tool_calls_keep_the_arguments_byte_for_byte(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    content = [
        text_block("Let me look both up."),
        tool_use_block("toolu_01Paris", "get_weather", {}),
        tool_use_block("toolu_02Zurich", "get_weather", {}),
    ]
    body = message(content, stop_reason="tool_use")
    upstream.script(raw_message_reply(body, {1: PARIS_RAW, 2: ZURICH_RAW}))
    completion = client.chat.completions.create(model="smart", messages=ASK, tools=TOOLS)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me look both up."
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("toolu_01Paris", "get_weather", PARIS_RAW),
        ("toolu_02Zurich", "get_weather", ZURICH_RAW),
    ]
    assert upstream.last_request.json["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather for a city",
            "input_schema": TOOLS[0]["function"]["parameters"],
        }
    ]


def test_streamed_parallel_tool_calls_after_a_text_block(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    events = [
        message_start(id="msg_01StreamedTools", input_tokens=420),
        block_start(0, text_block("")),
        text_delta(0, "Let me look"),
        text_delta(0, " both up."),
        block_stop(0),
        block_start(1, tool_use_block("toolu_01Paris", "get_weather", {})),
        json_delta(1, ""),
        *(json_delta(1, piece) for piece in PARIS_PIECES),
        block_stop(1),
        block_start(2, tool_use_block("toolu_02Zurich", "get_weather", {})),
        json_delta(2, ""),
        *(json_delta(2, piece) for piece in ZURICH_PIECES),
        block_stop(2),
        message_delta("tool_use", 96),
        message_stop(),
    ]
    upstream.script(stream_reply(events, chunk_delay=0.001))
    stream = client.chat.completions.create(
        model="smart",
        messages=ASK,
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    got = read_stream(stream)
    assert got.ids == {"msg_01StreamedTools"}
    assert got.text == "Let me look both up."
    assert got.calls == {
        0: {"id": "toolu_01Paris", "name": "get_weather", "arguments": "".join(PARIS_PIECES)},
        1: {"id": "toolu_02Zurich", "name": "get_weather", "arguments": "".join(ZURICH_PIECES)},
    }
    assert got.finishes == ["tool_calls"]
    assert got.usage is not None
    assert (got.usage.prompt_tokens, got.usage.completion_tokens) == (420, 96)
    assert upstream.last_request.json["stream"] is True


def test_tool_results_go_back_as_one_user_turn(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    upstream.script(Reply.json(message([text_block("Paris is warmer.")])))
    history: Any = [
        *ASK,
        tool_call_turn(
            ("toolu_01Paris", "get_weather", PARIS_RAW),
            ("toolu_02Zurich", "get_weather", ZURICH_RAW),
        ),
        {"role": "tool", "tool_call_id": "toolu_01Paris", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_02Zurich", "content": "9C"},
    ]
    completion = client.chat.completions.create(
        model="smart",
        messages=history,
        tools=TOOLS,
        tool_choice="required",
        parallel_tool_calls=False,
    )
    assert completion.choices[0].message.content == "Paris is warmer."
    sent = upstream.last_request.json
    assert sent["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert [turn["role"] for turn in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"] == [
        {
            "type": "tool_use",
            "id": "toolu_01Paris",
            "name": "get_weather",
            "input": json.loads(PARIS_RAW),
        },
        {
            "type": "tool_use",
            "id": "toolu_02Zurich",
            "name": "get_weather",
            "input": json.loads(ZURICH_RAW),
        },
    ]
    assert sent["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_01Paris", "content": "18C"},
        {"type": "tool_result", "tool_use_id": "toolu_02Zurich", "content": "9C"},
    ]


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
    ],
)
def test_stop_reasons_become_openai_finish_reasons(
    client: openai.OpenAI, upstream: AnthropicUpstream, stop_reason: str, finish: str
) -> None:
    events = [
        message_start(),
        block_start(0, text_block("")),
        text_delta(0, "Once upon a time"),
        block_stop(0),
        message_delta(stop_reason, 4),
        message_stop(),
    ]
    upstream.script(
        Reply.json(message([text_block("Once upon a time")], stop_reason=stop_reason)),
        stream_reply(events),
    )
    plain = client.chat.completions.create(model="smart", messages=ASK, stop=["THE END"])
    assert plain.choices[0].finish_reason == finish
    assert upstream.last_request.json["stop_sequences"] == ["THE END"]
    streamed = client.chat.completions.create(model="smart", messages=ASK, stream=True)
    assert [c.choices[0].finish_reason for c in streamed if c.choices][-1] == finish


def test_json_mode_by_instruction(client: openai.OpenAI, upstream: AnthropicUpstream) -> None:
    upstream.script(
        Reply.json(message([text_block('{"paris": 18, "zurich": 9}')])),
        Reply.json(message([text_block("Paris: 18, Zürich: 9")])),
    )
    completion = client.chat.completions.create(
        model="smart", messages=ASK, response_format={"type": "json_object"}
    )
    assert json.loads(completion.choices[0].message.content or "") == {"paris": 18, "zurich": 9}
    assert "JSON object" in system_text(upstream.last_request)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="smart", messages=ASK, response_format={"type": "json_object"}
        )
    assert caught.value.status_code == 502


def test_images_reach_anthropic_as_sources(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    pixel = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    content: Any = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{pixel}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/ant.jpg"}},
    ]
    upstream.script(Reply.json(message([text_block("Two images.")])))
    client.chat.completions.create(model="smart", messages=[{"role": "user", "content": content}])
    assert upstream.last_request.json["messages"][0]["content"][1:] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": pixel}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/ant.jpg"}},
    ]


def test_upstream_errors_reach_the_sdk_as_its_own_exceptions(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    upstream.script(
        error_reply(529, "overloaded_error", "Overloaded"),
        error_reply(429, "rate_limit_error", "slow down", headers={"retry-after": "0"}),
        error_reply(400, "invalid_request_error", "messages.0.content: Field required"),
    )
    with pytest.raises(openai.InternalServerError) as overloaded:
        client.chat.completions.create(model="smart", messages=ASK)
    assert overloaded.value.status_code == 503
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="smart", messages=ASK)
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="smart", messages=ASK)
    assert "Field required" in bad.value.message


def test_an_error_event_mid_stream_ends_the_sdk_stream_with_an_error(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    events = [
        message_start(),
        block_start(0, text_block("")),
        text_delta(0, "Partly"),
        error_event("overloaded_error", "Overloaded"),
    ]
    upstream.script(stream_reply(events))
    received = []
    with pytest.raises(openai.APIError):
        for chunk in client.chat.completions.create(model="smart", messages=ASK, stream=True):
            received += [c.delta.content for c in chunk.choices]
    assert received == ["Partly"]
