"""The ``openai`` SDK's ``responses`` -> the served gateway -> an ``openai`` provider with
``wire_api: responses`` -> a fake OpenAI Responses API: the client's body reaches the upstream
with nothing lost (unknown fields, hosted tools, encrypted reasoning, ids), and the upstream's
reasoning (encrypted content as it came), function calls and usage come back, plain and
streamed."""

from __future__ import annotations

from typing import Any

import openai

from tests.e2e.cross_format import cross_format_fixtures
from tests.fakes.responses_upstream import (
    MODEL,
    ResponsesUpstream,
    call_events,
    completed,
    function_call_item,
    message_events,
    message_item,
    reasoning_events,
    reasoning_item,
    response,
    started,
    stream_reply,
    usage,
)
from tests.fakes.upstream import Reply

ENCRYPTED = "gAAAAABoY2nA-encrypted-reasoning-of-the-upstream"


def gateway_config(upstream: ResponsesUpstream) -> dict[str, Any]:
    return {
        "providers": {
            "oai": {
                "type": "openai",
                "base_url": upstream.base_url,
                "api_key": "sk-up",
                "wire_api": "responses",
            }
        },
        "models": [{"name": "smart", "deployments": [{"provider": "oai", "model": MODEL}]}],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(ResponsesUpstream, gateway_config)

REQUEST: Any = {
    "instructions": "Be terse.",
    "input": [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Weather?"}],
        },
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "call the tool"}],
            "encrypted_content": ENCRYPTED,
        },
        function_call_item("call_1", "get_weather", '{"city":"Oslo"}', id="fc_1"),
        {"type": "function_call_output", "call_id": "call_1", "output": "-3°C"},
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search", "query": "oslo"},
        },
    ],
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object"},
            "strict": False,
        },
        {"type": "web_search"},
    ],
    "tool_choice": "auto",
    "reasoning": {"effort": "low", "summary": "auto"},
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "session-7",
    "store": False,
    "parallel_tool_calls": True,
}
EXTRA = {
    "client_metadata": {"agent": "codex"},
    "text": {"verbosity": "low"},
    "brand_new_field": [1, 2],
}


def test_the_request_reaches_the_upstream_unchanged(
    client: openai.OpenAI, upstream: ResponsesUpstream
) -> None:
    raw = client.responses.with_raw_response.create(model="smart", **REQUEST, extra_body=EXTRA)
    sent = upstream.requests[0]
    assert sent.path == "/v1/responses"
    assert sent.headers["authorization"] == "Bearer sk-up"
    # the items' ids are the gateway's own, unknown upstream: left out, the rest as sent
    items = [{k: v for k, v in item.items() if k != "id"} for item in REQUEST["input"]]
    assert sent.json == {**REQUEST, **EXTRA, "model": MODEL, "input": items}
    assert "x-switchyard-dropped-tools" not in raw.headers  # this upstream got them


def test_reply_reasoning_calls_and_usage_come_back(
    client: openai.OpenAI, upstream: ResponsesUpstream
) -> None:
    output = [
        reasoning_item("Checking.", ENCRYPTED),
        message_item("Let me look."),
        function_call_item("call_2", "get_weather", '{"city": "Bergen"}'),
    ]
    upstream.script(Reply.json(response(output, usage=usage(40, 12, cached=30, reasoning=8))))
    got = client.responses.create(model="smart", input="Bergen?")
    kinds = [item.type for item in got.output]
    assert kinds == ["reasoning", "message", "function_call"]
    reasoning, _, call = got.output
    assert reasoning.encrypted_content == ENCRYPTED  # type: ignore[union-attr]
    assert reasoning.summary[0].text == "Checking."  # type: ignore[union-attr]
    assert got.output_text == "Let me look."
    assert (call.call_id, call.arguments) == ("call_2", '{"city": "Bergen"}')  # type: ignore[union-attr]
    assert got.usage is not None
    assert got.usage.input_tokens_details.cached_tokens == 30
    assert got.usage.output_tokens_details.reasoning_tokens == 8


def test_streamed_reasoning_text_and_calls(
    client: openai.OpenAI, upstream: ResponsesUpstream
) -> None:
    rid = "resp_stream1"
    reasoning = reasoning_item("Plan.", ENCRYPTED, id="rs_s")
    call = function_call_item("call_9", "get_weather", '{"city":"Rome"}', id="fc_s")
    events = [
        *started(rid),
        *reasoning_events(reasoning, 0),
        *message_events("Checking Rome.", 1, "msg_s"),
        *call_events(call, 2, ['{"city":', '"Rome"}']),
        completed(rid, [reasoning, message_item("Checking Rome.", id="msg_s"), call], usage(9, 7)),
    ]
    upstream.script(stream_reply(events))
    with client.responses.stream(model="smart", input="Rome?") as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert seen[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in seen
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call"]
    assert final.output[0].encrypted_content == ENCRYPTED  # type: ignore[union-attr]
    assert final.output_text == "Checking Rome."
    assert final.output[2].arguments == '{"city":"Rome"}'  # type: ignore[union-attr]
    assert final.usage is not None and final.usage.output_tokens == 7
    assert upstream.requests[0].json["stream"] is True


def test_an_upstream_failure_mid_stream_ends_with_response_failed(
    client: openai.OpenAI, upstream: ResponsesUpstream
) -> None:
    rid = "resp_broken"
    failed = response(
        [], id=rid, status="failed", error={"code": "server_error", "message": "boom"}
    )
    upstream.script(
        stream_reply(
            [
                *started(rid),
                *message_events("partial", 0, "msg_b")[:3],
                ("response.failed", {"type": "response.failed", "response": failed}),
            ]
        )
    )
    events = list(client.responses.create(model="smart", input="x", stream=True))
    assert events[-1].type == "response.failed"
    assert events[-1].response.error is not None  # type: ignore[union-attr]
    assert "boom" in events[-1].response.error.message  # type: ignore[union-attr]
    assert [e.sequence_number for e in events] == list(range(len(events)))
