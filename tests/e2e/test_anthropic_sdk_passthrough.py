"""The official `anthropic` SDK -> the served gateway's Anthropic door -> the `anthropic`
adapter -> a fake Anthropic Messages API on 127.0.0.1: nothing is lost on the way.

Upstream, the body is the client's (cache_control on every kind of block, thinking blocks
with their signatures, redacted thinking, tool results, ``thinking``/``top_k`` options); back,
the client gets the upstream's blocks (thinking with signature, redacted thinking, tool input
byte for byte) and its usage with the cache tokens, plain and streamed, event for event."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from tests.e2e.cross_format import cross_format_fixtures
from tests.fakes.anthropic_upstream import (
    MODEL,
    AnthropicUpstream,
    Reply,
    block_start,
    block_stop,
    json_delta,
    message,
    message_delta,
    message_start,
    message_stop,
    ping,
    raw_message_reply,
    signature_delta,
    stream_reply,
    text_block,
    text_delta,
    thinking_block,
    thinking_delta,
    tool_use_block,
    usage,
)

EPHEMERAL = {"type": "ephemeral"}
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgwBXW5cEMzJ2EP4nxQiMMIU"
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    "cache_control": EPHEMERAL,
}
RAW_INPUT = '{ "city":  "Z\\u00fcrich" }'


def gateway_config(upstream: AnthropicUpstream) -> dict[str, Any]:
    return {
        "providers": {
            "claude": {"type": "anthropic", "base_url": upstream.base_url, "api_key": "sk-ant-up"}
        },
        "models": [{"name": "smart", "deployments": [{"provider": "claude", "model": MODEL}]}],
        "router": {"retries": 0},
    }


_server, served, upstream, _openai_client = cross_format_fixtures(AnthropicUpstream, gateway_config)


@pytest.fixture()
def client(served: Any, upstream: AnthropicUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=served.url, api_key="none", max_retries=0)


# A conversation with every block kind Anthropic's reference lists for a request.
REQUEST: Any = {
    "max_tokens": 2048,
    "system": [
        {"type": "text", "text": "You are a weather assistant."},
        {"type": "text", "text": "Long instructions...", "cache_control": EPHEMERAL},
    ],
    "messages": [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Zürich?", "cache_control": EPHEMERAL}],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "The user wants weather.", "signature": SIGNATURE},
                {"type": "redacted_thinking", "data": REDACTED},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "get_weather",
                    "input": {"city": "Zürich"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01",
                    "content": "12°C",
                    "is_error": False,
                    "cache_control": {"type": "ephemeral", "ttl": "1h"},
                },
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                },
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ],
    "tools": [WEATHER_TOOL],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "stop_sequences": ["END"],
    "metadata": {"user_id": "user-7"},
}
# this SDK version takes no top_k argument: sent as a body field
EXTRA_BODY = {"top_k": 40}
SENT = {**REQUEST, **EXTRA_BODY, "model": MODEL}
USED = usage(50, 12, cache_creation=30, cache_read=1000)
REPLY_BLOCKS: Any = [
    thinking_block("Tomorrow: check forecast.", SIGNATURE),
    {"type": "redacted_thinking", "data": REDACTED},
    text_block("Let me check."),
    tool_use_block("toolu_02", "get_weather", {"city": "Zürich", "day": "tomorrow"}),
]


# what the SDK makes of the reply: the tool input parsed (the upstream's own text, see below)
RECEIVED = [*REPLY_BLOCKS[:3], tool_use_block("toolu_02", "get_weather", {"city": "Zürich"})]


def test_request_passes_through_without_loss(
    client: anthropic.Anthropic, upstream: AnthropicUpstream
) -> None:
    beta = "interleaved-thinking-2025-05-14,context-1m-2025-08-07"
    client.messages.create(
        model="smart", **REQUEST, extra_body=EXTRA_BODY, extra_headers={"anthropic-beta": beta}
    )
    sent = upstream.requests[0]
    assert sent.json == SENT
    assert sent.headers["anthropic-beta"] == beta  # the client's, unchanged


def test_stop_sequence_comes_back(client: anthropic.Anthropic, upstream: AnthropicUpstream) -> None:
    body = message([text_block("one two")], stop_reason="stop_sequence", usage=USED)
    upstream.script(Reply.json({**body, "stop_sequence": "three"}))
    got = client.messages.create(model="smart", **REQUEST)
    assert got.stop_reason == "stop_sequence" and got.stop_sequence == "three"
    end = message_delta("stop_sequence", 3)
    end[1]["delta"]["stop_sequence"] = "three"
    upstream.script(
        stream_reply(
            [
                message_start(),
                block_start(0, text_block("")),
                text_delta(0, "one two"),
                block_stop(0),
                end,
                message_stop(),
            ]
        )
    )
    with client.messages.stream(model="smart", **REQUEST) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "stop_sequence" and final.stop_sequence == "three"


def test_reply_passes_through_without_loss(
    client: anthropic.Anthropic, upstream: AnthropicUpstream
) -> None:
    body = message(REPLY_BLOCKS, stop_reason="tool_use", usage=USED)
    upstream.script(raw_message_reply(body, {3: RAW_INPUT}))
    raw = client.messages.with_raw_response.create(model="smart", **REQUEST, extra_body=EXTRA_BODY)
    got = raw.parse()
    assert [block.to_dict() for block in got.content] == RECEIVED
    assert RAW_INPUT in raw.http_response.text  # the input object byte for byte
    assert got.stop_reason == "tool_use" and got.id == body["id"] and got.model == MODEL
    assert got.usage.input_tokens == 50
    assert got.usage.cache_creation_input_tokens == 30
    assert got.usage.cache_read_input_tokens == 1000
    assert got.usage.output_tokens == 12


STREAM_EVENTS = [
    message_start(input_tokens=50, cache_creation=30, cache_read=1000),
    block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
    ping(),
    thinking_delta(0, "Tomorrow: "),
    thinking_delta(0, "check forecast."),
    signature_delta(0, SIGNATURE),
    block_stop(0),
    block_start(1, {"type": "redacted_thinking", "data": REDACTED}),
    block_stop(1),
    block_start(2, text_block("")),
    text_delta(2, "Let me "),
    text_delta(2, "check."),
    block_stop(2),
    block_start(3, tool_use_block("toolu_02", "get_weather", {})),
    json_delta(3, '{ "city":'),
    json_delta(3, '  "Z\\u00fcrich" }'),
    block_stop(3),
    message_delta("tool_use", 12),
    message_stop(),
]


def test_stream_passes_through_event_for_event(
    client: anthropic.Anthropic, upstream: AnthropicUpstream, served: Any
) -> None:
    upstream.script(stream_reply(STREAM_EVENTS))
    pieces: list[str] = []
    with client.messages.stream(model="smart", **REQUEST, extra_body=EXTRA_BODY) as stream:
        for event in stream:
            if event.type == "input_json":
                pieces.append(event.partial_json)
        final = stream.get_final_message()
    assert "".join(pieces) == RAW_INPUT
    assert [block.to_dict() for block in final.content] == RECEIVED
    assert final.stop_reason == "tool_use"
    assert final.usage.input_tokens == 50
    assert final.usage.cache_creation_input_tokens == 30
    assert final.usage.cache_read_input_tokens == 1000
    assert final.usage.output_tokens == 12
    assert upstream.requests[0].json == {**SENT, "stream": True}

    upstream.script(stream_reply(STREAM_EVENTS))
    body = {**REQUEST, "model": "smart", "stream": True}
    with httpx.stream("POST", f"{served.url}/v1/messages", json=body) as reply:
        names = [line[7:] for line in reply.iter_lines() if line.startswith("event: ")]
    upstream_names = [name for name, _ in STREAM_EVENTS if name != "ping"]
    assert [n for n in names if n != "ping"] == upstream_names
