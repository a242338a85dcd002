"""The official `anthropic` SDK -> the served gateway's Anthropic door -> the `gemini` adapter
-> a fake Gemini upstream on 127.0.0.1: a faithful translation both ways. Gemini's thought
text comes back as a thinking block (no signature), its function calls as tool_use blocks
whose input is what Gemini sent, plain and streamed; the tool results go up as Gemini's
function responses."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from tests.e2e.cross_format import cross_format_fixtures
from tests.fakes.gemini_upstream import (
    GeminiUpstream,
    Reply,
    function_call,
    response,
    sse,
    usage_metadata,
)

WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
ZURICH: dict[str, Any] = {"city": "Zürich", "days": [1, 2]}


def gateway_config(gemini: GeminiUpstream) -> dict[str, Any]:
    return {
        "providers": {"gem": {"type": "gemini", "base_url": gemini.base_url, "api_key": "AIza-up"}},
        "models": [
            {"name": "gem", "deployments": [{"provider": "gem", "model": "gemini-2.5-flash"}]}
        ],
        "router": {"retries": 0},
    }


_server, served, upstream, _openai_client = cross_format_fixtures(GeminiUpstream, gateway_config)


@pytest.fixture()
def client(served: Any, upstream: GeminiUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=served.url, api_key="none", max_retries=0)


def test_plain_tool_call_and_the_follow_up(
    client: anthropic.Anthropic, upstream: GeminiUpstream
) -> None:
    upstream.script(
        Reply.json(response([function_call("get_weather", ZURICH, "fc-1")], "STOP")),
        Reply.json(response([{"text": "Cold."}], "STOP", usage_metadata(30, 2, cached=10))),
    )
    message = client.messages.create(
        model="gem",
        max_tokens=256,
        system="Be brief.",
        messages=[{"role": "user", "content": "Weather in Zürich?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "any"},
    )
    assert message.stop_reason == "tool_use"
    call = message.content[0]
    assert call.type == "tool_use" and call.id == "fc-1" and call.input == ZURICH
    sent = upstream.requests[0].json
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert sent["systemInstruction"]["parts"] == [{"text": "Be brief."}]

    answer = client.messages.create(
        model="gem",
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "Weather in Zürich?"},
            {"role": "assistant", "content": [call.to_dict()]},  # type: ignore[list-item]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "fc-1", "content": "3°C"}],
            },
        ],
    )
    assert answer.content[0].text == "Cold."  # type: ignore[union-attr]
    assert answer.usage.input_tokens == 20 and answer.usage.cache_read_input_tokens == 10
    contents = upstream.requests[1].json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"][0]["functionCall"]["args"] == ZURICH
    assert contents[2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"output": "3°C"},
    }


def test_streamed_thoughts_text_and_tool_call(
    client: anthropic.Anthropic, upstream: GeminiUpstream
) -> None:
    upstream.script(
        sse(
            [
                response([{"text": "Checking", "thought": True}], None),
                response([{"text": "Let me look."}], None),
                response([function_call("get_weather", ZURICH, "fc-1")], None),
                response([], "STOP", usage_metadata(40, 20, thoughts=5)),
            ]
        )
    )
    with client.messages.stream(
        model="gem",
        max_tokens=256,
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        final = stream.get_final_message()
    assert [block.type for block in final.content] == ["thinking", "text", "tool_use"]
    assert final.content[0].thinking == "Checking"  # type: ignore[union-attr]
    assert final.content[1].text == "Let me look."  # type: ignore[union-attr]
    tool = final.content[2]
    assert tool.type == "tool_use" and tool.input == ZURICH
    assert final.stop_reason == "tool_use"
    assert final.usage.input_tokens == 40
    assert final.usage.output_tokens == 25  # thoughts count as output, as Anthropic counts them
