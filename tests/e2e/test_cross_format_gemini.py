"""Cross-format: the official ``openai`` SDK -> the served gateway -> the ``gemini`` adapter ->
a fake Gemini upstream on 127.0.0.1.

Gemini sends function-call arguments as a JSON object (``args``), not as text, and a call
arrives whole. The arguments a client reassembles are therefore the gateway's serialisation of
Gemini's ``args`` (``arguments_json``): the tests assert they are json.loads-equal to what the
upstream sent and byte-identical to that serialisation, plain and streamed.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from switchyard.providers.gemini.translate import arguments_json
from tests.e2e.cross_format import cross_format_fixtures, function_tool, read_stream
from tests.fakes.gemini_upstream import (
    GeminiUpstream,
    Reply,
    error_body,
    function_call,
    response,
    sse,
    usage_metadata,
)

TOOLS: Any = [
    function_tool(
        "get_weather",
        "Current weather for a city",
        {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "array"}},
            "required": ["city"],
        },
    )
]
ASK: Any = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Zürich and Paris?"},
]
ZURICH: dict[str, Any] = {
    "city": "Zürich",
    "unit": "celsius",
    "days": [1, 2],
    "detail": {"wind": True},
}
PARIS: dict[str, Any] = {"city": "Paris, France"}


def gateway_config(gemini: GeminiUpstream) -> dict[str, Any]:
    return {
        "providers": {"gem": {"type": "gemini", "base_url": gemini.base_url, "api_key": "AIza-up"}},
        "models": [
            {"name": "gem", "deployments": [{"provider": "gem", "model": "gemini-2.5-flash"}]}
        ],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(GeminiUpstream, gateway_config)


def test_plain_tool_calls_and_the_follow_up(
    client: openai.OpenAI, upstream: GeminiUpstream
) -> None:
    upstream.script(
        Reply.json(
            response(
                [function_call("get_weather", ZURICH), function_call("get_weather", PARIS, "fc-2")],
                "STOP",
                usage_metadata(30, 12),
            )
        )
    )
    completion = client.chat.completions.create(
        model="gem", messages=ASK, tools=TOOLS, tool_choice="required"
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = [c for c in choice.message.tool_calls or [] if c.type == "function"]
    assert [(c.id, c.function.name) for c in calls] == [
        ("call_0", "get_weather"),
        ("fc-2", "get_weather"),
    ]
    for call, args in zip(calls, (ZURICH, PARIS), strict=True):
        assert json.loads(call.function.arguments) == args
        assert call.function.arguments == arguments_json(args)

    sent = upstream.requests[0]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent" and sent.query == ""
    assert sent.headers["x-goog-api-key"] == "AIza-up"
    assert sent.json["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    declared = sent.json["tools"][0]["functionDeclarations"][0]
    assert declared["parametersJsonSchema"] == TOOLS[0]["function"]["parameters"]

    upstream.script(Reply.json(response([{"text": "Cold in Zürich, mild in Paris."}])))
    follow_up: Any = [
        *ASK,
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": "call_0", "content": '{"celsius": 3}'},
        {"role": "tool", "tool_call_id": "fc-2", "content": "mild"},
    ]
    answer = client.chat.completions.create(model="gem", messages=follow_up, tools=TOOLS)
    assert answer.choices[0].message.content == "Cold in Zürich, mild in Paris."
    assert answer.choices[0].finish_reason == "stop"
    contents = upstream.requests[1].json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert [p["functionCall"]["args"] for p in contents[1]["parts"]] == [ZURICH, PARIS]
    assert [p["functionResponse"] for p in contents[2]["parts"]] == [
        {"name": "get_weather", "response": {"celsius": 3}},
        {"name": "get_weather", "response": {"output": "mild"}},
    ]


def test_streamed_tool_calls_reassemble(client: openai.OpenAI, upstream: GeminiUpstream) -> None:
    upstream.script(
        sse(
            [
                response([{"text": "Checking", "thought": True}], None),
                response([{"text": "Let me look."}], None),
                response([function_call("get_weather", ZURICH, "fc-1")], None),
                response([function_call("get_weather", PARIS)], None),
                response([], "STOP", usage_metadata(40, 20, cached=8, thoughts=5)),
            ],
            chunk_delay=0.005,
        )
    )
    stream = client.chat.completions.create(
        model="gem",
        messages=ASK,
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    got = read_stream(stream)
    assert got.text == "Let me look."
    assert got.finishes == ["tool_calls"]
    assert [(c["id"], c["name"]) for c in got.calls.values()] == [
        ("fc-1", "get_weather"),
        ("call_1", "get_weather"),
    ]
    for call, args in zip(got.calls.values(), (ZURICH, PARIS), strict=True):
        assert json.loads(call["arguments"]) == args
        assert call["arguments"] == arguments_json(args)
    usage = got.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (40, 25)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 8
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 5
    assert upstream.requests[0].query == "alt=sse"


@pytest.mark.parametrize(
    ("finish", "expected"),
    [("STOP", "stop"), ("MAX_TOKENS", "length"), ("RECITATION", "content_filter")],
)
def test_stop_reasons_map_onto_openais(
    client: openai.OpenAI, upstream: GeminiUpstream, finish: str, expected: str
) -> None:
    upstream.script(
        Reply.json(response([{"text": "Once upon a time"}], finish)),
        sse([response([{"text": "Once upon"}], None), response([{"text": " a time"}], finish)]),
    )
    plain = client.chat.completions.create(model="gem", messages=ASK)
    assert plain.choices[0].finish_reason == expected
    streamed = list(client.chat.completions.create(model="gem", messages=ASK, stream=True))
    assert [c.choices[0].finish_reason for c in streamed if c.choices][-1] == expected
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == (
        "Once upon a time"
    )


def test_blocked_replies_are_openai_content_filter_errors(
    client: openai.OpenAI, upstream: GeminiUpstream
) -> None:
    upstream.script(
        Reply.json({"promptFeedback": {"blockReason": "SAFETY"}}),
        sse([{"candidates": [{"finishReason": "SAFETY", "index": 0}]}]),
    )
    with pytest.raises(openai.BadRequestError) as plain:
        client.chat.completions.create(model="gem", messages=ASK)
    assert plain.value.code == "content_filter"
    with pytest.raises(openai.BadRequestError) as streamed:
        list(client.chat.completions.create(model="gem", messages=ASK, stream=True))
    assert streamed.value.code == "content_filter"


def test_upstream_errors_reach_the_sdk_as_its_own_exceptions(
    client: openai.OpenAI, upstream: GeminiUpstream
) -> None:
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
    upstream.script(Reply.json(error_body(429, "Quota exceeded.", details=[retry]), 429))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gem", messages=ASK)
    image: Any = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        }
    ]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gem", messages=image)
    assert "data URL" in refused.value.message
