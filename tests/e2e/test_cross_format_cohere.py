"""Cross-format, end to end: the official `openai` SDK -> the served gateway -> the `cohere`
adapter -> a fake Cohere v2 upstream on 127.0.0.1 speaking Cohere's wire format.

Tool-call arguments the SDK reassembles are byte-identical to the text Cohere sent, plain and
streamed; Cohere's finish reasons arrive as OpenAI's."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.e2e.cross_format import cross_format_fixtures, function_tool, read_stream, tool_call_turn
from tests.fakes import cohere_upstream as co
from tests.fakes.cohere_upstream import CohereUpstream, Reply

HELLO: Any = [{"role": "user", "content": "hello cohere"}]
WEATHER: Any = [
    function_tool(
        "get_weather",
        "gets the weather of a given location",
        {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    )
]
# Cohere's documented pieces: a newline and indentation inside the arguments, kept as sent.
PIECES = ['{\n    "', "location", '":', ' "', "Madrid", '"\n}']


def gateway_config(cohere: CohereUpstream) -> dict[str, Any]:
    return {
        "providers": {"co": {"type": "cohere", "base_url": cohere.base_url, "api_key": "co-key"}},
        "models": [
            {"name": "command", "deployments": [{"provider": "co", "model": "command-a-03-2025"}]},
            {"name": "embed", "deployments": [{"provider": "co", "model": "embed-v4.0"}]},
        ],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(CohereUpstream, gateway_config)


def test_plain_chat(client: openai.OpenAI, upstream: CohereUpstream) -> None:
    upstream.script(Reply.json(co.text_reply("Hi there.", co.usage(71, 418, cached=64))))
    raw = client.chat.completions.with_raw_response.create(
        model="command", messages=HELLO, temperature=0.3, top_p=0.8, stop=["END"], seed=3
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hi there."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (71, 418)
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 64
    assert raw.headers["x-switchyard-provider"] == "co"
    sent = upstream.requests[0]
    assert sent.path == "/v2/chat" and sent.headers["authorization"] == "Bearer co-key"
    assert sent.json["model"] == "command-a-03-2025"
    assert (sent.json["p"], sent.json["stop_sequences"], sent.json["seed"]) == (0.8, ["END"], 3)


def test_streamed_text(client: openai.OpenAI, upstream: CohereUpstream) -> None:
    got = read_stream(client.chat.completions.create(model="command", messages=HELLO, stream=True))
    assert got.text == "hello cohere"
    assert got.finishes == ["stop"]
    assert len(got.ids) == 1


def test_plain_tool_call_arguments_are_byte_identical(
    client: openai.OpenAI, upstream: CohereUpstream
) -> None:
    arguments = "".join(PIECES)
    message = {
        "tool_plan": "I will look up the weather in Madrid.",
        "tool_calls": [co.tool_call("get_weather_p0dage9q1nv4", "get_weather", arguments)],
    }
    upstream.script(Reply.json(co.chat_reply(message, "TOOL_CALL")))
    completion = client.chat.completions.create(
        model="command", messages=HELLO, tools=WEATHER, tool_choice="required"
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert (calls[0].id, calls[0].function.name) == ("get_weather_p0dage9q1nv4", "get_weather")
    assert calls[0].function.arguments == arguments
    sent = upstream.requests[0].json
    assert sent["tool_choice"] == "REQUIRED"
    assert sent["tools"] == WEATHER


def test_streamed_tool_call_arguments_are_byte_identical(
    client: openai.OpenAI, upstream: CohereUpstream
) -> None:
    events = [
        co.message_start(),
        *co.tool_plan_events(["I will", " check Madrid."]),
        *co.tool_call_events(0, "get_weather_p0dage9q1nv4", "get_weather", PIECES),
        *co.tool_call_events(
            1, "get_weather_6p0fa9qwgnab", "get_weather", ['{"location":', '"Oslo"}']
        ),
        co.message_end("TOOL_CALL"),
    ]
    upstream.script(Reply.stream(events, done=False))
    stream = client.chat.completions.create(
        model="command", messages=HELLO, tools=WEATHER, stream=True
    )
    got = read_stream(stream)
    madrid, oslo = "".join(PIECES), '{"location":"Oslo"}'
    assert got.calls == {
        0: {"id": "get_weather_p0dage9q1nv4", "name": "get_weather", "arguments": madrid},
        1: {"id": "get_weather_6p0fa9qwgnab", "name": "get_weather", "arguments": oslo},
    }
    assert got.finishes == ["tool_calls"]


def test_a_tool_result_goes_back_in_cohere_shape(
    client: openai.OpenAI, upstream: CohereUpstream
) -> None:
    upstream.script(Reply.json(co.text_reply("It is 24°C in Madrid.")))
    messages: Any = [
        *HELLO,
        tool_call_turn(("get_weather_p0dage9q1nv4", "get_weather", '{"location": "Madrid"}')),
        {"role": "tool", "tool_call_id": "get_weather_p0dage9q1nv4", "content": '{"c": 24}'},
    ]
    completion = client.chat.completions.create(model="command", messages=messages, tools=WEATHER)
    assert completion.choices[0].message.content == "It is 24°C in Madrid."
    sent = upstream.requests[0].json["messages"]
    assert sent[1] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "get_weather_p0dage9q1nv4",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location": "Madrid"}'},
            }
        ],
    }
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": "get_weather_p0dage9q1nv4",
        "content": '{"c": 24}',
    }


def test_max_tokens_is_length(client: openai.OpenAI, upstream: CohereUpstream) -> None:
    reply = co.chat_reply({"content": [{"type": "text", "text": "Once upon"}]}, "MAX_TOKENS")
    upstream.script(Reply.json(reply))
    completion = client.chat.completions.create(model="command", messages=HELLO, max_tokens=2)
    assert completion.choices[0].finish_reason == "length"
    assert upstream.requests[0].json["max_tokens"] == 2


def test_cohere_errors_become_openai_errors(
    client: openai.OpenAI, upstream: CohereUpstream
) -> None:
    upstream.script(co.error_reply(429, "You are using a Trial key", {"retry-after": "0"}))
    with pytest.raises(openai.RateLimitError, match="Trial key"):
        client.chat.completions.create(model="command", messages=HELLO)
    upstream.script(co.error_reply(400, "invalid request: temperature must be between 0 and 1"))
    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.chat.completions.create(model="command", messages=HELLO)


def test_embeddings(client: openai.OpenAI, upstream: CohereUpstream) -> None:
    result = client.embeddings.create(model="embed", input=["a", "b"], encoding_format="float")
    assert len(result.data) == 2 and len(result.data[0].embedding) == 8
    sent = upstream.requests[0]
    assert sent.path == "/v2/embed" and sent.json["input_type"] == "search_document"
