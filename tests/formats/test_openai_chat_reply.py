"""The OpenAI chat codec's reply side: an upstream completion read (``response_from_openai``)
and a canonical response rendered (``response_to_openai``), replayed over real recorded OpenAI
replies and checked against OpenAI's OpenAPI description."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.errors import UpstreamProtocolError
from switchyard.formats.openai_chat import response_from_openai, response_to_openai
from switchyard.types import ChatResponse, Choice, Message, TextPart, ToolCall, Usage
from tests.fakes.cassettes import load_cassette
from tests.fakes.openapi_schema import assert_valid
from tests.formats.chat_cassettes import CHAT_CASSETTES

JSON_REPLIES = [
    name
    for name in CHAT_CASSETTES
    if load_cassette(name).status == 200 and not load_cassette(name).is_stream
]


# -- cassette replay ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", JSON_REPLIES)
def test_response_round_trip_validates_and_keeps_everything_we_model(name: str) -> None:
    original = load_cassette(name).response_json

    response = response_from_openai(original, "openai")
    rendered = response_to_openai(response)

    assert_valid("CreateChatCompletionResponse", rendered)
    assert response.provider == "openai"
    for key in ("id", "created", "model", "object"):
        assert rendered[key] == original[key]
    for ours, theirs in zip(rendered["choices"], original["choices"], strict=True):
        assert ours["finish_reason"] == theirs["finish_reason"]
        assert ours["index"] == theirs["index"]
        for key in ("role", "content", "refusal", "tool_calls"):
            assert ours["message"].get(key) == theirs["message"].get(key)
    usage, theirs_usage = rendered["usage"], original["usage"]
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert usage[key] == theirs_usage[key]
    assert (
        usage["completion_tokens_details"]["reasoning_tokens"]
        == theirs_usage["completion_tokens_details"]["reasoning_tokens"]
    )
    assert (
        usage["prompt_tokens_details"]["cached_tokens"]
        == theirs_usage["prompt_tokens_details"]["cached_tokens"]
    )


def test_usage_maps_onto_the_canonical_names() -> None:
    response = response_from_openai(load_cassette("chat-basic").response_json, "openai")
    assert response.usage == Usage(
        input_tokens=8, output_tokens=377, cached_input_tokens=0, reasoning_tokens=320
    )


def test_tool_call_arguments_are_kept_byte_for_byte() -> None:
    original = load_cassette("chat-tools").response_json
    response = response_from_openai(original, "openai")
    call = response.message.tool_calls[0]  # type: ignore[index]
    raw = original["choices"][0]["message"]["tool_calls"][0]
    assert (call.id, call.name, call.arguments) == (
        raw["id"],
        raw["function"]["name"],
        raw["function"]["arguments"],
    )
    assert response.choices[0].finish_reason == "tool_calls"


def test_the_schema_check_can_fail() -> None:
    rendered = response_to_openai(
        response_from_openai(load_cassette("chat-basic").response_json, "p")
    )
    rendered["choices"][0]["finish_reason"] = None  # OpenAI never sends this in a completion
    with pytest.raises(AssertionError, match="finish_reason"):
        assert_valid("CreateChatCompletionResponse", rendered)


# -- response_from_openai / response_to_openai --------------------------------------------------


def completion(
    message: dict[str, Any], finish: str | None = "stop", **extra: Any
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
        **extra,
    }


def test_deprecated_function_call_becomes_a_tool_call() -> None:
    body = completion(
        {"content": None, "function_call": {"name": "f", "arguments": '{"a":1}'}}, "function_call"
    )
    response = response_from_openai(body, "p")
    assert response.choices[0].finish_reason == "tool_calls"
    assert response.message.tool_calls == [ToolCall(id="call_0", name="f", arguments='{"a":1}')]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_is_read_from_either_field(field: str) -> None:
    response = response_from_openai(completion({"content": "4", field: "2+2"}), "p")
    assert response.message.reasoning == "2+2"
    rendered = response_to_openai(response)
    assert rendered["choices"][0]["message"]["reasoning_content"] == "2+2"
    assert_valid("CreateChatCompletionResponse", rendered)


def test_refusals_stay_refusals() -> None:
    response = response_from_openai(completion({"content": None, "refusal": "I can't."}), "p")
    assert response.message.refusal == "I can't." and response.message.content is None
    message = response_to_openai(response)["choices"][0]["message"]
    assert (message["content"], message["refusal"]) == (None, "I can't.")


def test_cached_tokens_and_content_parts() -> None:
    body = completion(
        {
            "content": [
                {"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]},
                {"type": "text", "text": "ok"},
            ]
        },
        usage={
            "prompt_tokens": 100,
            "completion_tokens": 5,
            "total_tokens": 105,
            "prompt_tokens_details": {"cached_tokens": 64},
            "completion_tokens_details": None,
        },
    )
    response = response_from_openai(body, "p")
    assert response.text == "ok" and response.message.reasoning == "hm"
    assert response.usage == Usage(input_tokens=100, output_tokens=5, cached_input_tokens=64)


def test_unknown_finish_reasons_read_as_stop_and_error_is_written_as_stop() -> None:
    response = response_from_openai(completion({"content": "x"}, "eos"), "p")
    assert response.choices[0].finish_reason == "stop"
    response.choices[0].finish_reason = "error"
    assert response_to_openai(response)["choices"][0]["finish_reason"] == "stop"


def test_canonical_response_renders_valid_openai_json() -> None:
    response = ChatResponse(
        id="r1",
        created=1,
        model="m",
        provider="p",
        choices=[
            Choice(
                message=Message(
                    role="assistant",
                    content=[TextPart(text="a"), TextPart(text="b")],
                    tool_calls=[ToolCall(id="c", name="f", arguments="{}")],
                ),
                finish_reason=None,
            )
        ],
        usage=Usage(input_tokens=3, output_tokens=2, cached_input_tokens=1, reasoning_tokens=1),
        system_fingerprint="fp_1",
    )
    rendered = response_to_openai(response)
    assert_valid("CreateChatCompletionResponse", rendered)
    assert rendered["choices"][0]["message"]["content"] == "ab"
    assert rendered["choices"][0]["finish_reason"] == "stop"
    assert rendered["usage"]["total_tokens"] == 5
    assert rendered["system_fingerprint"] == "fp_1"
    assert "system_fingerprint" not in response_to_openai(
        response.model_copy(update={"system_fingerprint": None})
    )


MALFORMED_RESPONSES = [
    {},
    {"choices": []},
    {"choices": "nope"},
    {"choices": [{"index": 0}]},
    {"choices": [{"message": {"content": 5}}]},
    {"choices": [{"message": {"tool_calls": [{"id": "x", "function": {"arguments": "{}"}}]}}]},
    {
        "choices": [
            {"message": {"tool_calls": [{"id": "x", "type": "custom", "function": {"name": "f"}}]}}
        ]
    },
    {"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": "many"}},
]


@pytest.mark.parametrize("body", MALFORMED_RESPONSES)
def test_malformed_responses_are_protocol_errors(body: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError) as caught:
        response_from_openai(body, "upstream-a")
    assert caught.value.provider == "upstream-a"
    assert caught.value.retryable
