"""Cross-format, end to end: the official `openai` SDK -> the served gateway -> the `ollama`
adapter -> a fake Ollama upstream on 127.0.0.1 speaking Ollama's native NDJSON format.

Ollama sends tool-call arguments as a JSON object; the arguments the SDK reassembles are the
adapter's documented encoding of that object (``json.dumps`` defaults) byte for byte, plain and
streamed, and the SDK's argument text goes back to Ollama as the object it encodes."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.e2e.cross_format import cross_format_fixtures, function_tool, read_stream, tool_call_turn
from tests.fakes import ollama_upstream as ol
from tests.fakes.ollama_upstream import OllamaUpstream, Reply

HELLO: Any = [{"role": "user", "content": "hello ollama"}]
TEMPERATURE: Any = [
    function_tool(
        "get_temperature",
        "Get the current temperature for a city",
        {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string", "description": "The name of the city"}},
        },
    )
]
NEW_YORK = {"city": "New York", "units": "celsius", "note": "naïve ✓"}


def gateway_config(ollama: OllamaUpstream) -> dict[str, Any]:
    return {
        # no background health probes: the fake must see only the test's own requests
        "providers": {
            "local-ollama": {
                "type": "ollama",
                "base_url": ollama.base_url,
                "probe": {"enabled": False},
            }
        },
        "models": [
            {"name": "qwen", "deployments": [{"provider": "local-ollama", "model": "qwen3"}]},
            {"name": "embed", "deployments": [{"provider": "local-ollama", "model": "all-minilm"}]},
        ],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(OllamaUpstream, gateway_config)


def test_plain_chat(client: openai.OpenAI, upstream: OllamaUpstream) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="qwen", messages=HELLO, max_tokens=50, seed=101, temperature=0
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "hello ollama"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (26, 18)
    assert raw.headers["x-switchyard-provider"] == "local-ollama"
    sent = upstream.requests[0]
    assert sent.path == "/api/chat" and "authorization" not in sent.headers
    assert sent.json["stream"] is False
    assert sent.json["options"] == {"num_predict": 50, "seed": 101, "temperature": 0}


def test_streamed_text_with_thinking(client: openai.OpenAI, upstream: OllamaUpstream) -> None:
    lines = [
        ol.line({"thinking": "Greet back."}),
        ol.line({"content": "Hello"}),
        ol.line({"content": " there"}),
        ol.done_line(reason="length"),
    ]
    upstream.script(Reply.lines(lines))
    got = read_stream(client.chat.completions.create(model="qwen", messages=HELLO, stream=True))
    assert got.text == "Hello there"
    assert got.reasoning == "Greet back."
    assert got.finishes == ["length"]


def test_plain_tool_call_arguments(client: openai.OpenAI, upstream: OllamaUpstream) -> None:
    call = ol.tool_call("get_temperature", NEW_YORK, call_id="call_k2m4p6q8")
    upstream.script(Reply.json(ol.done_line({"tool_calls": [call]})))
    completion = client.chat.completions.create(model="qwen", messages=HELLO, tools=TEMPERATURE)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert (calls[0].id, calls[0].function.name) == ("call_k2m4p6q8", "get_temperature")
    assert calls[0].function.arguments == json.dumps(NEW_YORK, ensure_ascii=False)
    assert upstream.requests[0].json["tools"] == TEMPERATURE


def test_streamed_tool_calls_arguments(client: openai.OpenAI, upstream: OllamaUpstream) -> None:
    london = {"city": "London"}
    lines = [
        ol.line({"thinking": "Two cities."}),
        ol.line({"tool_calls": [ol.tool_call("get_temperature", NEW_YORK)]}),  # no id: old Ollama
        ol.line({"tool_calls": [ol.tool_call("get_temperature", london, call_id="call_z9")]}),
        ol.done_line(),
    ]
    upstream.script(Reply.lines(lines))
    stream = client.chat.completions.create(
        model="qwen", messages=HELLO, tools=TEMPERATURE, stream=True
    )
    got = read_stream(stream)
    new_york = json.dumps(NEW_YORK, ensure_ascii=False)
    assert got.calls == {
        0: {"id": "call_0", "name": "get_temperature", "arguments": new_york},
        1: {"id": "call_z9", "name": "get_temperature", "arguments": json.dumps(london)},
    }
    assert json.loads(got.calls[0]["arguments"]) == NEW_YORK
    assert got.finishes == ["tool_calls"]


def test_a_tool_result_goes_back_as_ollama_expects(
    client: openai.OpenAI, upstream: OllamaUpstream
) -> None:
    upstream.script(Reply.json(ol.done_line({"content": "It is 22°C in New York."})))
    messages: Any = [
        *HELLO,
        tool_call_turn(("call_k2m4p6q8", "get_temperature", '{"city":"New York"}')),
        {"role": "tool", "tool_call_id": "call_k2m4p6q8", "content": "22°C"},
    ]
    completion = client.chat.completions.create(model="qwen", messages=messages, tools=TEMPERATURE)
    assert completion.choices[0].message.content == "It is 22°C in New York."
    sent = upstream.requests[0].json["messages"]
    assert sent[1]["tool_calls"] == [
        {
            "id": "call_k2m4p6q8",
            "function": {"index": 0, "name": "get_temperature", "arguments": {"city": "New York"}},
        }
    ]
    assert sent[2] == {
        "role": "tool",
        "content": "22°C",
        "tool_call_id": "call_k2m4p6q8",
        "tool_name": "get_temperature",
    }


def test_json_mode_and_images(client: openai.OpenAI, upstream: OllamaUpstream) -> None:
    pixel = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    upstream.script(Reply.json(ol.done_line({"content": '{"what": "a pixel"}'})))
    message: Any = {
        "role": "user",
        "content": [
            {"type": "text", "text": "Describe it in JSON."},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{pixel}"}},
        ],
    }
    completion = client.chat.completions.create(
        model="qwen", messages=[message], response_format={"type": "json_object"}
    )
    assert json.loads(completion.choices[0].message.content or "") == {"what": "a pixel"}
    sent = upstream.requests[0].json
    assert sent["format"] == "json"
    assert sent["messages"][0]["images"] == [pixel]


def test_a_remote_image_is_a_400(client: openai.OpenAI, upstream: OllamaUpstream) -> None:
    message: Any = {
        "role": "user",
        "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}],
    }
    with pytest.raises(openai.BadRequestError, match="base64"):
        client.chat.completions.create(model="qwen", messages=[message])
    assert upstream.requests == []


def test_ollama_errors_become_openai_errors(
    client: openai.OpenAI, upstream: OllamaUpstream
) -> None:
    upstream.script(ol.error_reply(404, "model 'qwen3' not found"))
    with pytest.raises(openai.NotFoundError, match="not found"):
        client.chat.completions.create(model="qwen", messages=HELLO)
    lines = [
        ol.line({"content": "Yes"}),
        {"error": "an error was encountered while running the model"},
    ]
    upstream.script(Reply.lines(lines))
    received = []
    with pytest.raises(openai.APIError):
        for chunk in client.chat.completions.create(model="qwen", messages=HELLO, stream=True):
            received += [c.delta.content for c in chunk.choices if c.delta.content]
    assert received == ["Yes"]


def test_embeddings(client: openai.OpenAI, upstream: OllamaUpstream) -> None:
    result = client.embeddings.create(model="embed", input=["a", "b"], encoding_format="float")
    assert len(result.data) == 2 and len(result.data[1].embedding) == 8
    assert upstream.requests[0].path == "/api/embed"
    assert upstream.requests[0].json["input"] == ["a", "b"]
