"""The ``openai`` SDK's ``responses`` -> the served gateway -> the ``anthropic`` adapter -> a
fake Anthropic Messages API: ``reasoning.effort`` becomes a thinking budget, Anthropic's
signed thinking comes back as a reasoning item whose ``encrypted_content`` carries the
signature, and goes back to Anthropic as the same thinking block in the client's next turn
(with the tool call and its result); hosted tools are left out and named in the header."""

from __future__ import annotations

from typing import Any

import openai

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
    signature_delta,
    stream_reply,
    text_block,
    text_delta,
    thinking_block,
    thinking_delta,
    tool_use_block,
    usage,
)

SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgwBXW5cEMzJ2EP4nxQiMMIU"
READ: Any = {
    "type": "function",
    "name": "read_file",
    "description": "Read a file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
    "strict": False,
}


def gateway_config(upstream: AnthropicUpstream) -> dict[str, Any]:
    return {
        "providers": {
            "claude": {"type": "anthropic", "base_url": upstream.base_url, "api_key": "sk-ant"}
        },
        "models": [{"name": "smart", "deployments": [{"provider": "claude", "model": MODEL}]}],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(AnthropicUpstream, gateway_config)


def test_thinking_round_trip_with_a_function_call(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    blocks = [
        thinking_block("I should read it.", SIGNATURE),
        tool_use_block("toolu_01", "read_file", {"path": "README.md"}),
    ]
    upstream.script(
        Reply.json(message(blocks, stop_reason="tool_use", usage=usage(30, 9, cache_read=10)))
    )
    first = client.responses.create(
        model="smart",
        input="What does README.md say?",
        tools=[READ, {"type": "web_search"}],
        reasoning={"effort": "low"},
        max_output_tokens=8000,
        store=False,
    )
    sent = upstream.requests[0].json
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert sent["max_tokens"] == 8000
    assert [tool["name"] for tool in sent["tools"]] == ["read_file"]
    reasoning, call = first.output
    assert reasoning.type == "reasoning" and call.type == "function_call"
    assert reasoning.summary[0].text == "I should read it."
    assert reasoning.encrypted_content and SIGNATURE in reasoning.encrypted_content
    assert call.call_id == "toolu_01" and call.arguments == '{"path":"README.md"}'
    assert first.usage is not None
    assert first.usage.input_tokens == 40  # Anthropic's 30 + 10 read from its cache
    assert first.usage.input_tokens_details.cached_tokens == 10

    upstream.script(Reply.json(message([text_block("It says hello.")], usage=usage(50, 4))))
    second = client.responses.create(
        model="smart",
        input=[
            {"role": "user", "content": "What does README.md say?"},
            *(item.model_dump(exclude_none=True) for item in first.output),
            {"type": "function_call_output", "call_id": "toolu_01", "output": "hello"},
        ],
        tools=[READ],
        reasoning={"effort": "low"},
        max_output_tokens=8000,
        store=False,
    )
    assert second.output_text == "It says hello."
    turns = upstream.requests[1].json["messages"]
    assert turns[1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "I should read it.", "signature": SIGNATURE},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "read_file",
                "input": {"path": "README.md"},
            },
        ],
    }
    assert turns[2]["content"][0]["type"] == "tool_result"
    assert turns[2]["content"][0]["tool_use_id"] == "toolu_01"


def test_streamed_thinking_text_and_tool_use(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    upstream.script(
        stream_reply(
            [
                message_start(input_tokens=12),
                block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
                thinking_delta(0, "Read "),
                thinking_delta(0, "it."),
                signature_delta(0, SIGNATURE),
                block_stop(0),
                block_start(1, text_block("")),
                text_delta(1, "Reading."),
                block_stop(1),
                block_start(2, tool_use_block("toolu_02", "read_file", {})),
                json_delta(2, '{"path":'),
                json_delta(2, '"a.txt"}'),
                block_stop(2),
                message_delta("tool_use", 20),
                message_stop(),
            ]
        )
    )
    with client.responses.stream(model="smart", input="read a.txt", tools=[READ]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call"]
    reasoning, _, call = final.output
    assert reasoning.summary[0].text == "Read it."  # type: ignore[union-attr]
    assert SIGNATURE in (reasoning.encrypted_content or "")  # type: ignore[union-attr]
    assert final.output_text == "Reading."
    assert call.arguments == '{"path":"a.txt"}'  # type: ignore[union-attr]
    assert final.usage is not None and final.usage.output_tokens == 20


def test_hosted_tools_are_named_when_left_out(
    client: openai.OpenAI, upstream: AnthropicUpstream
) -> None:
    raw = client.responses.with_raw_response.create(
        model="smart",
        input="hi there",
        tools=[
            READ,
            {"type": "web_search"},
            {"type": "custom", "name": "apply_patch"},
            {"type": "custom", "name": "ünï\r\nx-evil: 1"},
        ],
        stream=True,
    )
    dropped = raw.headers["x-switchyard-dropped-tools"]
    assert dropped == "web_search,apply_patch,%C3%BCn%C3%AF%0D%0Ax-evil: 1"
    assert "x-evil" not in raw.headers
    events = list(raw.parse())
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "hi there"  # type: ignore[union-attr]
