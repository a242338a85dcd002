"""The official `anthropic` SDK -> the served gateway's Anthropic door -> the `openai` adapter
-> a fake OpenAI upstream on 127.0.0.1 (and ``fake`` providers for the error statuses).

Plain and streamed messages, tools (arguments byte for byte, plain and streamed), count_tokens,
the SDK's own exceptions for every error status, a mid-stream failure as an ``error`` event,
and the same usage row as the OpenAI door for the same request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from switchyard import Gateway
from switchyard.providers.fake import FakeFailure
from switchyard.records.record import RequestRecord
from switchyard.usage.rows import usage_row
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider
from tests.fakes.openai_upstream import OpenAIUpstream, Reply

HELLO: Any = [{"role": "user", "content": "hello gateway"}]
WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
# what the upstream sends, kept exactly: odd spacing, an escaped and a literal non-ASCII char
ARGUMENT_PIECES = ['{"ci', 'ty": "Z\\u00fcr', 'ich",  "unit" :', ' "celsius"}']
ARGUMENTS = "".join(ARGUMENT_PIECES)


class Records:
    """A record sink: every request's record, in order."""

    def __init__(self) -> None:
        self.all: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.all.append(record)


def gateway_config(upstream_url: str) -> dict[str, Any]:
    return {
        "providers": {
            "up": {"type": "openai", "base_url": upstream_url, "api_key": "sk-upstream"},
            "a": {"type": "fake", "reply": "from a"},
        },
        "models": [
            {"name": "gpt", "deployments": [{"provider": "up", "model": "gpt-4o-mini"}]},
            {"name": "faulty", "deployments": [{"provider": "a", "model": "m"}]},
        ],
        "router": {"retries": 0, "circuit_breaker": {"failure_threshold": 1000}},
    }


@pytest.fixture(scope="module")
def records() -> Records:
    return Records()


@pytest.fixture(scope="module")
def served(_openai_upstream_server: OpenAIUpstream, records: Records) -> Iterator[ServedGateway]:
    config = gateway_config(_openai_upstream_server.base_url)
    with serve(Gateway.from_config(config, sinks=[records])) as s:
        yield s


@pytest.fixture()
def client(served: ServedGateway, openai_upstream: OpenAIUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=served.url, api_key="none", max_retries=0)


def openai_chunk(delta: dict[str, Any], finish: str | None = None, **fields: Any) -> Any:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    envelope = {"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1755137933}
    return {**envelope, "model": "gpt-4o-mini", "choices": [choice], **fields}


def openai_completion(message: dict[str, Any], finish: str, usage: dict[str, Any]) -> Any:
    return {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "created": 1755137933,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


USAGE = {
    "prompt_tokens": 40,
    "completion_tokens": 9,
    "total_tokens": 49,
    "prompt_tokens_details": {"cached_tokens": 32},
}


def test_plain_message(client: anthropic.Anthropic, openai_upstream: OpenAIUpstream) -> None:
    raw = client.messages.with_raw_response.create(
        model="gpt",
        max_tokens=64,
        system="Be brief.",
        messages=HELLO,
        stop_sequences=["END"],
        extra_body={"temperature": 0.2, "top_k": 5},  # this SDK version has no temperature
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "hello gateway"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.model == "gpt-4o-mini"
    assert message.usage.output_tokens > 0
    sent = openai_upstream.requests[0].json
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello gateway"},
    ]
    assert sent["stop"] == ["END"] and sent["temperature"] == 0.2
    assert sent["max_tokens"] == 64
    assert "top_k" not in sent  # an Anthropic-only field: for Anthropic upstreams only
    assert "anthropic-beta" not in openai_upstream.requests[0].headers
    assert raw.headers["x-switchyard-provider"] == "up"


def test_cache_tokens_in_usage(
    client: anthropic.Anthropic, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(
        Reply.json(openai_completion({"role": "assistant", "content": "ok"}, "length", USAGE))
    )
    message = client.messages.create(model="gpt", max_tokens=9, messages=HELLO)
    assert message.stop_reason == "max_tokens"
    assert message.usage.input_tokens == 8  # Anthropic's input excludes cache reads
    assert message.usage.cache_read_input_tokens == 32
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.output_tokens == 9


def test_streamed_message(client: anthropic.Anthropic, served: ServedGateway) -> None:
    with client.messages.stream(model="gpt", max_tokens=64, messages=HELLO) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(texts) == "hello gateway" and len(texts) > 1
    assert final.content[0].text == "hello gateway"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


def test_streamed_event_sequence(served: ServedGateway) -> None:
    """The exact order Anthropic's streaming reference gives."""
    body = {"model": "gpt", "max_tokens": 64, "messages": HELLO, "stream": True}
    with httpx.stream("POST", f"{served.url}/v1/messages", json=body) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in reply.iter_lines() if line.startswith("event: ")]
    names = [line.removeprefix("event: ") for line in lines]
    deltas = names.count("content_block_delta")
    assert deltas == 2
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


def test_tools_plain(client: anthropic.Anthropic, openai_upstream: OpenAIUpstream) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather"}}
    call["function"]["arguments"] = ARGUMENTS  # type: ignore[index]
    reply = {"role": "assistant", "content": None, "tool_calls": [call]}
    openai_upstream.script(Reply.json(openai_completion(reply, "tool_calls", USAGE)))
    raw = client.messages.with_raw_response.create(
        model="gpt",
        max_tokens=64,
        messages=[{"role": "user", "content": "Weather in Zürich?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    message = raw.parse()
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use" and block.id == "call_1" and block.name == "get_weather"
    assert block.input == {"city": "Zürich", "unit": "celsius"}
    assert (
        ARGUMENTS in raw.http_response.text
    )  # the upstream's text, byte for byte, as the input object
    sent = openai_upstream.requests[0].json
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": WEATHER_TOOL["input_schema"],
            },
        }
    ]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_tools_streamed_arguments_byte_identical(
    client: anthropic.Anthropic, openai_upstream: OpenAIUpstream
) -> None:
    start = {"index": 0, "id": "call_7", "type": "function"}
    start["function"] = {"name": "get_weather", "arguments": ""}
    events = [
        openai_chunk({"role": "assistant", "content": "Let me check."}),
        openai_chunk({"tool_calls": [start]}),
        *(
            openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in ARGUMENT_PIECES
        ),
        openai_chunk({}, "tool_calls"),
        openai_chunk({}, usage=USAGE) | {"choices": []},
    ]
    openai_upstream.script(Reply.stream(events))
    pieces: list[str] = []
    with client.messages.stream(
        model="gpt", max_tokens=64, messages=HELLO, tools=[WEATHER_TOOL]
    ) as stream:
        for event in stream:
            if event.type == "input_json":
                pieces.append(event.partial_json)
        final = stream.get_final_message()
    assert "".join(pieces) == ARGUMENTS
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[0].text == "Let me check."  # type: ignore[union-attr]
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.id == "call_7"
    assert tool.input == {"city": "Zürich", "unit": "celsius"}
    assert final.stop_reason == "tool_use"
    assert final.usage.cache_read_input_tokens == 32 and final.usage.input_tokens == 8


def test_tool_results_go_upstream_as_tool_messages(
    client: anthropic.Anthropic, openai_upstream: OpenAIUpstream
) -> None:
    client.messages.create(
        model="gpt",
        max_tokens=64,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "any"},
        messages=[
            {"role": "user", "content": "Weather in Zürich?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Z"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "12°C"},
                    {"type": "text", "text": "and tomorrow?"},
                ],
            },
        ],
    )
    sent = openai_upstream.requests[0].json
    assert sent["tool_choice"] == "required"
    assert sent["messages"][1]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city":"Z"}',
    }
    assert sent["messages"][2] == {"role": "tool", "content": "12°C", "tool_call_id": "t1"}
    assert sent["messages"][3]["role"] == "user"


def test_images_base64_and_url(
    client: anthropic.Anthropic, openai_upstream: OpenAIUpstream
) -> None:
    client.messages.create(
        model="gpt",
        max_tokens=64,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0"},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    parts = openai_upstream.requests[0].json["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    assert parts[0]["image_url"]["url"] == "data:image/png;base64,iVBORw0"
    assert parts[1]["image_url"]["url"] == "https://x.test/a.jpg"


def test_count_tokens(client: anthropic.Anthropic, served: ServedGateway) -> None:
    counted = client.messages.count_tokens(
        model="gpt", system="Be brief.", messages=HELLO, tools=[WEATHER_TOOL]
    )
    longer = client.messages.count_tokens(
        model="gpt", messages=[{"role": "user", "content": "hello gateway " * 50}]
    )
    assert 10 < counted.input_tokens < 100
    assert longer.input_tokens > 100  # gpt-4o-mini: o200k tokens, "hello gateway " ~2 each


def test_models_list_in_anthropic_shape(client: anthropic.Anthropic) -> None:
    ids = [model.id for model in client.models.list()]
    assert "gpt" in ids and "faulty" in ids


# -- errors ---------------------------------------------------------------------------------


def test_401_is_authentication_error(served: ServedGateway) -> None:
    with serve(
        {**gateway_config("http://127.0.0.1:9/v1"), "server": {"master_key": "sk-master"}}
    ) as locked:
        wrong = anthropic.Anthropic(base_url=locked.url, api_key="sk-wrong", max_retries=0)
        with pytest.raises(anthropic.AuthenticationError) as caught:
            wrong.messages.create(model="faulty", max_tokens=8, messages=HELLO)
        assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
        with pytest.raises(anthropic.AuthenticationError):
            wrong.messages.count_tokens(model="faulty", messages=HELLO)
        with pytest.raises(anthropic.AuthenticationError) as listing:
            wrong.models.list()
        assert listing.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
        for key in ("x-api-key", "authorization"):  # the SDK's header, or a bearer token
            value = "sk-master" if key == "x-api-key" else "Bearer sk-master"
            reply = httpx.post(
                f"{locked.url}/v1/messages",
                headers={key: value},
                json={"model": "faulty", "max_tokens": 8, "messages": HELLO},
            )
            assert reply.status_code == 200 and reply.json()["content"][0]["text"] == "from a"


def test_400_is_bad_request_naming_the_field(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="gpt",
            max_tokens=8,
            messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "x"}}]}],  # type: ignore[list-item,typeddict-item]
        )
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "messages[0].content[0].source.type" in caught.value.message


def test_404_for_an_unknown_model(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(model="nope", max_tokens=8, messages=HELLO)
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]


def test_count_tokens_refuses_an_unknown_model_and_a_bad_body(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError):
        client.messages.count_tokens(model="nope", messages=HELLO)
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.count_tokens(model="gpt", messages=[])
    assert "messages" in caught.value.message


def test_unknown_route_and_method_in_anthropic_shape(served: ServedGateway) -> None:
    missing = httpx.post(f"{served.url}/v1/messages/batches", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"
    wrong = httpx.get(f"{served.url}/v1/messages")
    assert wrong.status_code == 405 and wrong.json()["type"] == "error"


def test_429_is_rate_limit_error(client: anthropic.Anthropic, served: ServedGateway) -> None:
    fake_provider(served.gateway, "a").script(FakeFailure(status=429, retry_after=7))
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(model="faulty", max_tokens=8, messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_unavailable_upstream_is_overloaded_529(
    client: anthropic.Anthropic, served: ServedGateway
) -> None:
    fake_provider(served.gateway, "a").script(FakeFailure(status=503))
    with pytest.raises(anthropic.OverloadedError) as caught:
        client.messages.create(model="faulty", max_tokens=8, messages=HELLO)
    assert caught.value.status_code == 529
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_mid_stream_failure_ends_with_an_error_event(served: ServedGateway) -> None:
    fake_provider(served.gateway, "a").script(FakeFailure(mode="cut_stream", after_chunks=1))
    body = {"model": "faulty", "max_tokens": 8, "messages": HELLO, "stream": True}
    with httpx.stream("POST", f"{served.url}/v1/messages", json=body) as reply:
        assert reply.status_code == 200
        lines = list(reply.iter_lines())
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "error"
    assert "message_stop" not in events
    error = json.loads(lines[lines.index("event: error") + 1].removeprefix("data: "))
    assert error["type"] == "error" and error["error"]["type"] == "overloaded_error"


# -- the same usage row as the OpenAI door ----------------------------------------------------


def _row(record: RequestRecord) -> dict[str, Any]:
    row = usage_row(record, "row")
    for varying in ("id", "created_at", "request_id", "latency_ms", "ttft_ms"):
        row.pop(varying)
    return row


@pytest.mark.parametrize("stream", [False, True])
def test_same_usage_row_as_the_openai_door(
    served: ServedGateway, records: Records, openai_upstream: OpenAIUpstream, stream: bool
) -> None:
    rows = []
    for door in ("anthropic", "openai"):
        openai_upstream.script(
            Reply.stream(
                [
                    openai_chunk({"role": "assistant", "content": "ok"}),
                    openai_chunk({}, "stop"),
                    openai_chunk({}, usage=USAGE) | {"choices": []},
                ]
            )
            if stream
            else Reply.json(
                openai_completion({"role": "assistant", "content": "ok"}, "stop", USAGE)
            )
        )
        before = len(records.all)
        if door == "anthropic":
            body = {"model": "gpt", "max_tokens": 16, "messages": HELLO, "stream": stream}
            reply = httpx.post(f"{served.url}/v1/messages", json=body)
        else:
            body = {"model": "gpt", "max_tokens": 16, "messages": HELLO, "stream": stream}
            reply = httpx.post(f"{served.base_url}/chat/completions", json=body)
        assert reply.status_code == 200
        assert len(records.all) == before + 1
        rows.append(_row(records.all[-1]))
    assert rows[0] == rows[1]
    assert rows[0]["input_tokens"] == 40 and rows[0]["cached_tokens"] == 32
    sent = [r.json for r in openai_upstream.requests]
    assert sent[0] == sent[1]  # the same upstream body from either door


def test_same_usage_row_for_a_refused_body(served: ServedGateway, records: Records) -> None:
    rows = []
    for url in (f"{served.url}/v1/messages", f"{served.base_url}/chat/completions"):
        reply = httpx.post(url, json={"model": "gpt", "max_tokens": 16, "messages": "x"})
        assert reply.status_code == 400
        rows.append(_row(records.all[-1]))
    assert rows[0] == rows[1]
    assert rows[0]["status"] != "ok"
