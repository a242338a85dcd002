"""The official `openai` SDK -> the served gateway -> the `openai` adapter -> a fake OpenAI
upstream on 127.0.0.1. Responses and stream chunks are checked against OpenAI's OpenAPI spec."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.cross_format import read_stream
from tests.e2e.served import ServedGateway, serve
from tests.fakes.cassettes import load_cassette
from tests.fakes.openai_upstream import OpenAIUpstream, Reply
from tests.fakes.openapi_schema import assert_valid

HELLO: Any = [{"role": "user", "content": "hello gateway"}]


def gateway_config(upstream_url: str) -> dict[str, Any]:
    return {
        "providers": {
            "up": {"type": "openai", "base_url": upstream_url, "api_key": "sk-upstream"},
            "dead": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"},
        },
        "models": [
            {"name": "gpt", "deployments": [{"provider": "up", "model": "gpt-4o-mini"}]},
            {
                "name": "pair",
                "deployments": [
                    {"provider": "up", "model": "first", "timeout": 0.5},
                    {"provider": "up", "model": "second"},
                ],
            },
            {
                "name": "refused-then-up",
                "deployments": [
                    {"provider": "dead", "model": "first"},
                    {"provider": "up", "model": "second"},
                ],
            },
            {
                "name": "embed",
                "deployments": [{"provider": "up", "model": "text-embedding-3-small"}],
            },
        ],
        "router": {"retries": 0},
    }


@pytest.fixture(scope="module")
def served(_openai_upstream_server: OpenAIUpstream) -> Iterator[ServedGateway]:
    with serve(gateway_config(_openai_upstream_server.base_url)) as s:
        yield s


@pytest.fixture()
def client(served: ServedGateway, openai_upstream: OpenAIUpstream) -> openai.OpenAI:
    return served.client()


def test_plain_chat_completion(client: openai.OpenAI, openai_upstream: OpenAIUpstream) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt", messages=HELLO, seed=7)
    completion = raw.parse()
    assert completion.choices[0].message.content == "hello gateway"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert_valid("CreateChatCompletionResponse", json.loads(raw.text))
    sent = openai_upstream.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.json["model"] == "gpt-4o-mini" and sent.json["seed"] == 7
    assert sent.headers["authorization"] == "Bearer sk-upstream"
    assert raw.headers["x-switchyard-provider"] == "up"
    assert raw.headers["x-switchyard-model"] == "gpt-4o-mini"


def test_recorded_completion_round_trips(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    cassette = load_cassette("chat-basic")
    openai_upstream.script(Reply.from_cassette(cassette))
    completion = client.chat.completions.create(model="gpt", messages=HELLO)
    recorded = cassette.response_json
    assert completion.id == recorded["id"]
    assert completion.choices[0].message.content == recorded["choices"][0]["message"]["content"]
    assert completion.usage is not None
    assert completion.usage.total_tokens == recorded["usage"]["total_tokens"]


def test_streamed_chat_with_usage(served: ServedGateway, openai_upstream: OpenAIUpstream) -> None:
    events = []
    with httpx.stream(
        "POST",
        f"{served.base_url}/chat/completions",
        json={
            "model": "gpt",
            "messages": HELLO,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        for line in reply.iter_lines():
            if line.startswith("data: "):
                events.append(line[6:])
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert_valid("CreateChatCompletionStreamResponse", chunk)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "hello gateway"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_stream_through_the_sdk(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt", messages=HELLO, stream=True)
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "hello gateway"
    assert all(c.usage is None for c in chunks)  # not asked for, not sent
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_recorded_stream_reassembles(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    cassette = load_cassette("chat-streaming")
    openai_upstream.script(Reply.from_cassette(cassette))
    expected = "".join(
        (json.loads(d)["choices"][0]["delta"].get("content") or "")
        for d in cassette.sse_data
        if d != "[DONE]" and json.loads(d)["choices"]
    )
    stream = client.chat.completions.create(model="gpt", messages=HELLO, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == expected and text


def test_tools_pass_through_and_come_back(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    cassette = load_cassette("chat-tools")
    openai_upstream.script(Reply.from_cassette(cassette))
    request = cassette.request_json
    completion = client.chat.completions.create(
        model="gpt",
        messages=request["messages"],
        tools=request["tools"],
        tool_choice=request.get("tool_choice", "auto"),
    )
    sent = openai_upstream.requests[0].json
    assert sent["tools"] == request["tools"]
    recorded = cassette.response_json["choices"][0]["message"]["tool_calls"]
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        (r["id"], r["function"]["name"], r["function"]["arguments"]) for r in recorded
    ]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call_arguments_are_byte_identical(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    pieces = ['{"loc', 'ation": "Par', "is, Fr", 'ance", "unit": "c', 'elsius"}']
    base = {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
    }
    events: list[dict[str, Any]] = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    },
                    "finish_reason": None,
                }
            ],
        },
        *[
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"tool_calls": [{"index": 0, "function": {"arguments": p}}]},
                        "finish_reason": None,
                    }
                ],
            }
            for p in pieces
        ],
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    openai_upstream.script(Reply.stream(events))
    stream = client.chat.completions.create(
        model="gpt",
        messages=HELLO,
        stream=True,
        tools=[
            {
                "type": "function",
                "function": {"name": "get_weather", "parameters": {"type": "object"}},
            }
        ],
    )
    got = read_stream(stream)
    assert got.calls == {0: {"id": "call_1", "name": "get_weather", "arguments": "".join(pieces)}}
    assert got.finishes == ["tool_calls"]


def test_json_mode_is_passed_through(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    cassette = load_cassette("chat-json-mode")
    openai_upstream.script(Reply.from_cassette(cassette))
    completion = client.chat.completions.create(
        model="gpt",
        messages=cassette.request_json["messages"],
        response_format={"type": "json_object"},
    )
    assert openai_upstream.requests[0].json["response_format"] == {"type": "json_object"}
    json.loads(completion.choices[0].message.content or "")


def test_json_schema_is_passed_through(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    client.chat.completions.create(
        model="gpt",
        messages=HELLO,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "num", "schema": schema, "strict": True},
        },
    )
    sent = openai_upstream.requests[0].json["response_format"]
    assert sent == {
        "type": "json_schema",
        "json_schema": {"name": "num", "schema": schema, "strict": True},
    }


def test_embeddings_float_and_base64(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    floats = client.embeddings.create(model="embed", input=["a", "b"], encoding_format="float")
    assert len(floats.data) == 2 and len(floats.data[0].embedding) > 0
    # the SDK asks for base64 by default and decodes it itself
    default = client.embeddings.create(model="embed", input="a")
    assert default.data[0].embedding == pytest.approx(floats.data[0].embedding, rel=1e-6)
    assert openai_upstream.requests[0].json["model"] == "text-embedding-3-small"


def test_models_list(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids[:4] == ["gpt", "pair", "refused-then-up", "embed"]
    assert "up/gpt-4o-mini" in ids


@pytest.mark.parametrize(
    "failure",
    [
        Reply.error(500, "upstream broke", type="server_error"),
        Reply.error(429, "slow down", type="rate_limit_error", headers={"retry-after": "0"}),
        Reply.error(503, "overloaded", type="server_error"),
        Reply.json({"fine": "later"}, delay=3.0),  # slower than the deployment's 0.5 s timeout
    ],
    ids=["500", "429", "503", "timeout"],
)
def test_failover_to_the_second_deployment(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream, failure: Reply
) -> None:
    openai_upstream.script(failure)
    raw = client.chat.completions.with_raw_response.create(model="pair", messages=HELLO)
    assert raw.parse().choices[0].message.content == "hello gateway"
    assert raw.headers["x-switchyard-attempts"] == "2"
    assert raw.headers["x-switchyard-model"] == "second"
    assert [r.json["model"] for r in openai_upstream.requests] == ["first", "second"]


def test_failover_on_connection_refused(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    raw = client.chat.completions.with_raw_response.create(model="refused-then-up", messages=HELLO)
    assert raw.headers["x-switchyard-attempts"] == "2"
    assert raw.headers["x-switchyard-provider"] == "up"


def test_a_400_is_returned_not_failed_over(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.error(400, "Invalid value for 'temperature'", param="temperature"))
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="pair", messages=HELLO)
    assert "temperature" in caught.value.message
    assert len(openai_upstream.requests) == 1


def test_stream_failover_before_the_first_byte(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.error(502, "bad gateway", type="server_error"))
    raw = client.chat.completions.with_raw_response.create(
        model="pair", messages=HELLO, stream=True
    )
    assert raw.headers["x-switchyard-attempts"] == "2"
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text == "hello gateway"


def test_stream_cut_mid_way_ends_with_an_error_event(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
        for w in ["one", " two", " three", " four"]
    ]
    openai_upstream.script(Reply.stream(events, cut_after=2))
    received = []
    with pytest.raises(openai.APIError):
        for chunk in client.chat.completions.create(model="gpt", messages=HELLO, stream=True):
            received.append(chunk.choices[0].delta.content)
    assert received == ["one", " two"]


def test_client_disconnect_cancels_the_upstream_call(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.json({"never": "read"}, delay=5.0))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{served.base_url}/chat/completions",
            json={"model": "gpt", "messages": HELLO},
            timeout=0.3,
        )
    deadline = time.monotonic() + 3
    while not openai_upstream.requests or not openai_upstream.requests[0].disconnected:
        assert time.monotonic() < deadline, "the upstream request was not cancelled"
        time.sleep(0.02)


def test_client_leaving_a_stream_cancels_the_upstream_stream(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}]}
        for i in range(50)
    ]
    openai_upstream.script(Reply.stream(events, chunk_delay=0.1))
    body = {"model": "gpt", "messages": HELLO, "stream": True}
    with httpx.stream("POST", f"{served.base_url}/chat/completions", json=body) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: "):
                break  # read one chunk, then hang up
    deadline = time.monotonic() + 3
    while not openai_upstream.requests[0].disconnected:
        assert time.monotonic() < deadline, "the upstream stream was not closed"
        time.sleep(0.02)
