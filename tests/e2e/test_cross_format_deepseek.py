"""Cross-format: the official ``openai`` SDK -> the served gateway -> the ``deepseek`` preset ->
a fake DeepSeek upstream on 127.0.0.1 (API at the host root, DeepSeek's reply shapes).

DeepSeek's reasoning models send their chain of thought as ``reasoning_content`` beside
``content``; the gateway carries it as canonical reasoning and the OpenAI door renders it as
``reasoning_content`` again, on the message and on stream deltas, so OpenAI-SDK clients that
know the field (most do) read it where they expect it. Tool-call arguments reach the client
byte for byte, plain and streamed, and the reasoning of a tool-call turn goes back to DeepSeek
on the next request, as its thinking mode requires.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.contract.case import WireUsage
from tests.contract.case_deepseek import deepseek_chunk, deepseek_completion
from tests.e2e.cross_format import cross_format_fixtures, function_tool, read_stream, tool_call_turn
from tests.fakes.openai_compatible_upstreams import DeepSeekUpstream
from tests.fakes.upstream import Reply

TOOLS: Any = [
    function_tool(
        "get_weather",
        "Current weather for a city",
        {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city"],
        },
    )
]
ASK: Any = [{"role": "user", "content": "Weather in Zürich?"}]
# Spacing, key order and escapes as the model wrote them: the client must get these bytes.
ARGUMENTS = '{"city":  "Z\\u00fcrich",\n "unit": "celsius"}'
ARGUMENT_PIECES = ['{"city":  "Z', "\\u00fc", 'rich",\n', ' "unit": "cel', 'sius"}']
REASONING_PIECES = ["The user wants", " the weather;", " call get_weather."]


def gateway_config(deepseek: DeepSeekUpstream) -> dict[str, Any]:
    return {
        "providers": {
            "ds": {"type": "deepseek", "base_url": deepseek.base_url, "api_key": "sk-ds"}
        },
        "models": [
            {"name": "thinker", "deployments": [{"provider": "ds", "model": "deepseek-reasoner"}]}
        ],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(DeepSeekUpstream, gateway_config)


def test_plain_tool_call_with_reasoning(client: openai.OpenAI, upstream: DeepSeekUpstream) -> None:
    call = {
        "index": 0,
        "id": "call_0_6f3c",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ARGUMENTS},
    }
    message = {
        "role": "assistant",
        "content": "",
        "reasoning_content": "".join(REASONING_PIECES),
        "tool_calls": [call],
    }
    usage = WireUsage(input=40, output=30, cached=32, reasoning=20)
    upstream.script(Reply.json(deepseek_completion(message, "tool_calls", usage)))
    completion = client.chat.completions.create(model="thinker", messages=ASK, tools=TOOLS)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert (calls[0].id, calls[0].function.name) == ("call_0_6f3c", "get_weather")
    assert calls[0].function.arguments == ARGUMENTS
    assert (choice.message.model_extra or {})["reasoning_content"] == "".join(REASONING_PIECES)
    assert completion.usage is not None and completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 32
    sent = upstream.requests[0]
    assert sent.path == "/chat/completions" and sent.headers["authorization"] == "Bearer sk-ds"
    assert sent.json["model"] == "deepseek-reasoner"


def test_streamed_reasoning_and_tool_call(
    client: openai.OpenAI, upstream: DeepSeekUpstream
) -> None:
    start = {
        "index": 0,
        "id": "call_0_9a1b",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    events: list[Any] = [
        deepseek_chunk({"role": "assistant", "content": None, "reasoning_content": ""})
    ]
    events += [deepseek_chunk({"content": None, "reasoning_content": p}) for p in REASONING_PIECES]
    events.append(
        deepseek_chunk({"content": None, "reasoning_content": None, "tool_calls": [start]})
    )
    events += [
        deepseek_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        for piece in ARGUMENT_PIECES
    ]
    events.append(deepseek_chunk({"content": ""}, "tool_calls"))
    usage = WireUsage(input=40, output=30, cached=32, reasoning=20)
    events.append(
        {**deepseek_completion({}, "stop", usage), "object": "chat.completion.chunk", "choices": []}
    )
    upstream.script(Reply.stream(events))

    stream = client.chat.completions.create(
        model="thinker",
        messages=ASK,
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    got = read_stream(stream)
    assert got.reasoning == "".join(REASONING_PIECES)
    assert "".join(ARGUMENT_PIECES) == ARGUMENTS
    assert got.calls == {0: {"id": "call_0_9a1b", "name": "get_weather", "arguments": ARGUMENTS}}
    assert got.finishes == ["tool_calls"]
    assert got.usage is not None and got.usage.completion_tokens == 30
    assert upstream.requests[0].json["stream_options"] == {"include_usage": True}


def test_the_reasoning_of_a_tool_turn_goes_back(
    client: openai.OpenAI, upstream: DeepSeekUpstream
) -> None:
    """What an SDK client appends to its history (the assistant message with its
    ``reasoning_content``) reaches DeepSeek on the tool-call turn, not on a plain turn."""
    upstream.script(
        Reply.json(
            deepseek_completion({"role": "assistant", "content": "18 °C."}, "stop", WireUsage())
        )
    )
    history: Any = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi!", "reasoning_content": "A greeting."},
        *ASK,
        tool_call_turn(
            ("call_0_6f3c", "get_weather", ARGUMENTS), reasoning_content="Call the tool."
        ),
        {"role": "tool", "tool_call_id": "call_0_6f3c", "content": '{"celsius": 18}'},
    ]
    answer = client.chat.completions.create(model="thinker", messages=history, tools=TOOLS)
    assert answer.choices[0].message.content == "18 °C."
    sent = upstream.requests[0].json["messages"]
    assert "reasoning_content" not in sent[1]
    assert sent[3]["reasoning_content"] == "Call the tool."
    assert sent[3]["tool_calls"][0]["function"]["arguments"] == ARGUMENTS
    assert sent[4] == {"role": "tool", "content": '{"celsius": 18}', "tool_call_id": "call_0_6f3c"}


@pytest.mark.parametrize(
    ("deepseek_reason", "openai_reason"),
    [("stop", "stop"), ("length", "length"), ("content_filter", "content_filter")],
)
def test_stop_reasons(
    client: openai.OpenAI, upstream: DeepSeekUpstream, deepseek_reason: str, openai_reason: str
) -> None:
    message = {"role": "assistant", "content": "Once upon"}
    upstream.script(Reply.json(deepseek_completion(message, deepseek_reason, WireUsage())))
    completion = client.chat.completions.create(model="thinker", messages=ASK)
    assert completion.choices[0].finish_reason == openai_reason


def test_a_refused_feature_is_a_400_naming_it(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="thinker", messages=ASK, seed=7)
    assert "seed" in str(caught.value)
