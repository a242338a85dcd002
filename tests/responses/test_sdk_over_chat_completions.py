"""The official ``openai`` SDK's ``responses`` API -> the served gateway's Responses door ->
an OpenAI chat-completions upstream (the fake on 127.0.0.1): plain, streamed, a function-call
round trip, ``previous_response_id``, ``store: false``, GET / DELETE / input_items, hosted
tools left out and named in ``x-switchyard-dropped-tools``."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.e2e.cross_format import cross_format_fixtures
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply

WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def gateway_config(upstream: OpenAIUpstream) -> dict[str, Any]:
    return {
        "providers": {"up": {"type": "openai", "base_url": upstream.base_url, "api_key": "sk-up"}},
        "models": [{"name": "smart", "deployments": [{"provider": "up", "model": "gpt-4.1"}]}],
        "router": {"retries": 0},
    }


_server, served, upstream, client = cross_format_fixtures(OpenAIUpstream, gateway_config)


def completion(message: dict[str, Any], finish: str = "stop", **usage: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4.1-2025-04-14",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": usage.get("prompt", 20),
            "completion_tokens": usage.get("completion", 4),
            "total_tokens": usage.get("prompt", 20) + usage.get("completion", 4),
            "prompt_tokens_details": {"cached_tokens": usage.get("cached", 0)},
            "completion_tokens_details": {"reasoning_tokens": usage.get("reasoning", 0)},
        },
    }


def test_plain_text(client: openai.OpenAI, upstream: OpenAIUpstream) -> None:
    upstream.script(
        Reply.json(completion({"role": "assistant", "content": "Paris."}, cached=8, reasoning=2))
    )
    got = client.responses.create(
        model="smart",
        instructions="Answer briefly.",
        input="Capital of France?",
        max_output_tokens=50,
        temperature=0.2,
    )
    assert got.output_text == "Paris."
    assert got.status == "completed" and got.id.startswith("resp_")
    assert got.usage is not None
    assert (got.usage.input_tokens, got.usage.output_tokens) == (20, 4)
    assert got.usage.input_tokens_details.cached_tokens == 8
    assert got.usage.output_tokens_details.reasoning_tokens == 2
    sent = upstream.requests[0].json
    assert sent["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert sent["max_tokens"] == 50 and sent["temperature"] == 0.2
    assert got.instructions == "Answer briefly."


def test_streamed_text(client: openai.OpenAI, upstream: OpenAIUpstream) -> None:
    stream = client.responses.create(model="smart", input="one two three", stream=True)
    events = list(stream)
    kinds = [event.type for event in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    final = events[-1].response  # type: ignore[union-attr]
    assert final.output_text == "one two three"
    assert final.usage is not None and final.usage.output_tokens > 0


def test_stream_helper_and_function_call_round_trip(
    client: openai.OpenAI, upstream: OpenAIUpstream
) -> None:
    call = {
        "id": "call_abc",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
    }
    chunks: list[Any] = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4.1",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                **call,
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    },
                    "finish_reason": None,
                }
            ],
        },
        *(
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-4.1",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]},
                        "finish_reason": None,
                    }
                ],
            }
            for piece in ('{"city":', '"Paris"}')
        ),
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4.1",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
        },
    ]
    upstream.script(Reply.stream(chunks))
    with client.responses.stream(model="smart", input="Weather in Paris?", tools=[WEATHER]) as s:
        final = s.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].call_id == "call_abc" and calls[0].name == "get_weather"
    assert calls[0].arguments == '{"city":"Paris"}'
    sent = upstream.requests[0].json
    assert sent["tools"][0]["function"]["name"] == "get_weather"

    upstream.script(Reply.json(completion({"role": "assistant", "content": "Sunny, 21°C."})))
    got = client.responses.create(
        model="smart",
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            calls[0].model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": "call_abc", "output": "21°C, sunny"},
        ],
        tools=[WEATHER],
        store=False,
    )
    assert got.output_text == "Sunny, 21°C."
    history = upstream.requests[1].json["messages"]
    assert history[1]["tool_calls"][0]["id"] == "call_abc"
    assert history[1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Paris"}'
    assert history[2] == {"role": "tool", "content": "21°C, sunny", "tool_call_id": "call_abc"}


def test_previous_response_id_get_delete_and_input_items(
    client: openai.OpenAI, upstream: OpenAIUpstream
) -> None:
    upstream.script(
        Reply.json(completion({"role": "assistant", "content": "Hello Ada."})),
        Reply.json(completion({"role": "assistant", "content": "Your name is Ada."})),
    )
    first = client.responses.create(model="smart", input="My name is Ada.")
    second = client.responses.create(
        model="smart", input="What is my name?", previous_response_id=first.id
    )
    assert second.previous_response_id == first.id
    sent = upstream.requests[1].json["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "My name is Ada."),
        ("assistant", "Hello Ada."),
        ("user", "What is my name?"),
    ]
    got = client.responses.retrieve(second.id)
    assert got.id == second.id and got.output_text == "Your name is Ada."
    items = client.responses.input_items.list(second.id, order="asc")
    texts = [item.content[0].text for item in items.data]  # type: ignore[union-attr]
    assert texts == ["My name is Ada.", "Hello Ada.", "What is my name?"]
    assert all(item.id for item in items.data)
    page = client.responses.input_items.list(second.id, limit=1)
    assert len(page.data) == 1 and page.has_more
    client.responses.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(second.id)


def test_store_false_keeps_nothing(client: openai.OpenAI, upstream: OpenAIUpstream) -> None:
    got = client.responses.create(model="smart", input="hi", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(got.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="smart", input="again", previous_response_id=got.id)


def test_hosted_tools_left_out_and_named(client: openai.OpenAI, upstream: OpenAIUpstream) -> None:
    raw = client.responses.with_raw_response.create(
        model="smart",
        input="hi",
        tools=[
            WEATHER,
            {"type": "web_search"},
            {"type": "file_search", "vector_store_ids": ["vs_1"]},
        ],
    )
    assert raw.headers["x-switchyard-dropped-tools"] == "web_search,file_search"
    sent = upstream.requests[0].json
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["get_weather"]
    assert raw.parse().output_text == "hi"


def test_errors_are_openais(client: openai.OpenAI, upstream: OpenAIUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="smart", input="x", reasoning={"effort": "max"})  # type: ignore[typeddict-item]
    assert caught.value.param == "reasoning.effort"  # type: ignore[attr-defined]
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="smart", input="x", previous_response_id="resp_nope")
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list("resp_nope")
    assert upstream.requests == []


def test_an_upstream_cut_mid_stream_ends_with_response_failed(
    client: openai.OpenAI, upstream: OpenAIUpstream
) -> None:
    piece: dict[str, Any] = {
        "id": "c2",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4.1",
        "choices": [{"index": 0, "delta": {"content": "par"}, "finish_reason": None}],
    }
    upstream.script(Reply.stream([piece, piece, piece], cut_after=2))
    events = list(client.responses.create(model="smart", input="x", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert "response.output_text.delta" in kinds
    assert kinds[-1] == "response.failed"
    failed = events[-1].response  # type: ignore[union-attr]
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "server_error"
    with pytest.raises(openai.NotFoundError):  # a failed response is not stored
        client.responses.retrieve(failed.id)
