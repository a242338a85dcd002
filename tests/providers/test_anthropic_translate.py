"""The ``anthropic`` adapter's pure translation: canonical request -> Messages API body, the
``Message`` reply -> canonical response, errors -> taxonomy. Payloads follow Anthropic's API
reference (https://platform.claude.com/docs/en/api/messages and .../api/errors)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from switchyard.catalog.catalog import Catalog
from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.providers.anthropic.errors import map_error, map_error_payload
from switchyard.providers.anthropic.json_mode import check_json_reply, json_instruction
from switchyard.providers.anthropic.raw_json import member_texts
from switchyard.providers.anthropic.reply import (
    model_page_from_anthropic,
    response_from_anthropic,
)
from switchyard.providers.anthropic.translate import (
    default_max_tokens,
    request_to_anthropic,
    tool_choice_from_anthropic,
    tool_choice_to_anthropic,
)
from switchyard.types import (
    ChatRequest,
    ImagePart,
    JsonSchemaFormat,
    Message,
    NamedToolChoice,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
    ToolChoice,
)
from tests.fakes.anthropic_upstream import (
    error_body,
    message,
    models_page,
    text_block,
    thinking_block,
    tool_use_block,
    usage,
)

WEATHER = Tool(
    name="get_weather",
    description="Get the current weather in a given location",
    parameters={
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
)
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def body_for(*messages: Message, **fields: Any) -> dict[str, Any]:
    request = ChatRequest(model="claude-sonnet-4-5", messages=list(messages), **fields)
    return request_to_anthropic(request, max_tokens=1024, stream=False)


def user(content: Any) -> Message:
    return Message(role="user", content=content)


# -- request: messages --------------------------------------------------------------------------


def test_system_and_developer_messages_become_the_top_level_system() -> None:
    body = body_for(
        Message(role="system", content="You are terse."),
        user("Hello"),
        Message(role="developer", content="Answer in French."),
    )
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hello"}],
        "system": [
            {"type": "text", "text": "You are terse."},
            {"type": "text", "text": "Answer in French."},
        ],
    }
    assert body_for(Message(role="system", content="Be brief."), user("Hi"))["system"] == (
        "Be brief."
    )


def test_a_tool_loop_merges_turns_as_anthropic_requires() -> None:
    calls = [
        ToolCall(id="toolu_01A", name="get_weather", arguments='{"location": "Paris"}'),
        ToolCall(id="toolu_01B", name="get_weather", arguments='{"location": "Oslo"}'),
    ]
    body = body_for(
        user("Weather in Paris"),
        user([TextPart(text="and Oslo?")]),
        Message(role="assistant", content="Checking both.", tool_calls=calls, reasoning="hmm"),
        Message(role="tool", tool_call_id="toolu_01A", content="15 degrees"),
        Message(role="tool", tool_call_id="toolu_01B", content=[TextPart(text="3 degrees")]),
        user("Thanks! Which is warmer?"),
        tools=[WEATHER],
    )
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris"},
                {"type": "text", "text": "and Oslo?"},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking both."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_01B",
                    "name": "get_weather",
                    "input": {"location": "Oslo"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "15 degrees"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01B",
                    "content": [{"type": "text", "text": "3 degrees"}],
                },
                {"type": "text", "text": "Thanks! Which is warmer?"},
            ],
        },
    ]
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Get the current weather in a given location",
            "input_schema": WEATHER.parameters,
        }
    ]
    assert "tool_choice" not in body


def test_tool_results_go_before_text_in_their_turn() -> None:
    body = body_for(
        user("Go"),
        Message(role="assistant", tool_calls=[ToolCall(id="t1", name="f", arguments="")]),
        user("(the user typed while the tool ran)"),
        Message(role="tool", tool_call_id="t1", content=""),
    )
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "t1", "name": "f", "input": {}}
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1"},
        {"type": "text", "text": "(the user typed while the tool ran)"},
    ]


def test_images_as_base64_and_url_sources() -> None:
    body = body_for(
        user(
            [
                TextPart(text="Compare"),
                ImagePart(url=f"data:image/png;base64,{PNG}"),
                ImagePart(url="https://upload.wikimedia.org/ant.jpg", detail="high"),
            ]
        )
    )
    assert body["messages"][0]["content"][1:] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://upload.wikimedia.org/ant.jpg"}},
    ]


@pytest.mark.parametrize(
    "url", ["data:image/png,notbase64", "data:;base64,AAAA", "ftp://example.com/a.png"]
)
def test_images_anthropic_cannot_take_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        body_for(user([TextPart(text="?"), ImagePart(url=url)]))
    assert caught.value.param == "messages[0].content[1].url"


@pytest.mark.parametrize(
    ("message", "param"),
    [
        (
            Message(role="assistant", tool_calls=[ToolCall(id="t", name="f", arguments="{oops")]),
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            Message(role="assistant", tool_calls=[ToolCall(id="t", name="f", arguments="[1]")]),
            "messages[1].tool_calls[0].function.arguments",
        ),
        (Message(role="tool", content="18"), "messages[1].tool_call_id"),
        (
            Message(role="system", content=[ImagePart(url=f"data:image/png;base64,{PNG}")]),
            "messages[1].content",
        ),
    ],
)
def test_messages_anthropic_cannot_take_name_the_field(message: Message, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        body_for(user("Hi"), message)
    assert caught.value.param == param


# -- request: tools, parameters, extra ----------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "parallel", "wire"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        (NamedToolChoice(name="get_weather"), None, {"type": "tool", "name": "get_weather"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (
            NamedToolChoice(name="get_weather"),
            False,
            {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        ),
    ],
)
def test_tool_choice_both_ways(
    choice: ToolChoice | None, parallel: bool | None, wire: dict[str, Any]
) -> None:
    assert tool_choice_to_anthropic(choice, parallel) == wire
    body = body_for(user("Hi"), tools=[WEATHER], tool_choice=choice, parallel_tool_calls=parallel)
    assert body["tool_choice"] == wire
    back, back_parallel = tool_choice_from_anthropic(wire)
    assert back == (choice or "auto")
    assert back_parallel is parallel


def test_tool_choice_needs_tools() -> None:
    assert tool_choice_to_anthropic(None, None) is None
    assert tool_choice_to_anthropic(None, True) is None
    assert "tool_choice" not in body_for(user("Hi"), tool_choice="required")
    with pytest.raises(InvalidRequest):
        tool_choice_from_anthropic({"type": "sometimes"})


def test_parameters_map_or_are_left_out() -> None:
    body = body_for(
        user("Hi"),
        stop=["\n\nHuman:", "END"],
        temperature=0.2,
        top_p=0.9,
        user="user-42",
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=0.5,
        metadata={"team": "search"},
        max_tokens=300,
    )
    assert body["stop_sequences"] == ["\n\nHuman:", "END"]
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.2, 0.9, 300)
    assert body["metadata"] == {"user_id": "user-42"}
    for absent in ("seed", "presence_penalty", "frequency_penalty", "stop", "user", "stream"):
        assert absent not in body


@pytest.mark.parametrize(("field", "value"), [("n", 2), ("logprobs", True)])
def test_what_anthropic_cannot_express_is_refused(field: str, value: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        body_for(user("Hi"), **{field: value})
    assert caught.value.param == field


def test_extra_is_passed_through_but_gateway_keys_are_not() -> None:
    extra = {
        "top_k": 5,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "cache_control": {"type": "ephemeral"},
        "stream_options": {"include_obfuscation": False},
        "cache_breakpoints": [],
        "stream": True,
    }
    request = ChatRequest(model="claude-opus-4-5", messages=[user("Hi")], extra=extra)
    body = request_to_anthropic(request, max_tokens=64000, stream=False)
    assert body["top_k"] == 5 and body["thinking"]["budget_tokens"] == 2048
    assert body["cache_control"] == {"type": "ephemeral"}
    for absent in ("stream_options", "cache_breakpoints", "stream"):
        assert absent not in body
    assert request_to_anthropic(request, max_tokens=64000, stream=True)["stream"] is True


def test_cache_breakpoints_mark_the_named_blocks() -> None:
    breakpoints = ["tools", "system", {"at": 1, "ttl": "1h"}, -1]
    body = body_for(
        Message(role="system", content="A long, stable system prompt."),
        user("First question"),
        Message(role="assistant", content="First answer"),
        user("Second question"),
        tools=[WEATHER],
        extra={"cache_breakpoints": breakpoints},
    )
    ephemeral = {"type": "ephemeral"}
    assert body["tools"][-1]["cache_control"] == ephemeral
    assert body["system"] == [
        {"type": "text", "text": "A long, stable system prompt.", "cache_control": ephemeral}
    ]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "First question",
                    "cache_control": {"type": "ephemeral", "ttl": "1h"},
                }
            ],
        },
        {"role": "assistant", "content": "First answer"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Second question", "cache_control": ephemeral}],
        },
    ]


@pytest.mark.parametrize(
    "breakpoints",
    ["system", ["everything"], [5], [{"at": 0, "ttl": "2h"}], [{"at": 0, "when": 1}], ["tools"]],
)
def test_malformed_cache_breakpoints_are_refused(breakpoints: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        body_for(user("Hi"), extra={"cache_breakpoints": breakpoints})
    assert caught.value.param == "extra.cache_breakpoints"


def test_json_modes_are_asked_for_in_the_system_prompt() -> None:
    body = body_for(
        Message(role="system", content="Be brief."),
        user("Capital of France?"),
        response_format=ResponseFormat(type="json_object"),
    )
    assert body["system"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": json_instruction(ResponseFormat(type="json_object"))},
    ]
    schema = {"type": "object", "properties": {"capital": {"type": "string"}}}
    fmt = ResponseFormat(
        type="json_schema",
        json_schema=JsonSchemaFormat(name="answer", schema=schema, description="The capital"),
    )
    system = body_for(user("Capital of France?"), response_format=fmt)["system"]
    assert isinstance(system, str)
    assert "answer" in system and "The capital" in system
    assert orjson.dumps(schema).decode() in system
    assert "system" not in body_for(user("Hi"), response_format=ResponseFormat(type="text"))


def test_json_replies_are_checked() -> None:
    obj, schema = ResponseFormat(type="json_object"), ResponseFormat(type="json_schema")
    check_json_reply(' {"capital": "Paris"}\n', obj, "claude")
    check_json_reply("[1, 2]", schema, "claude")
    check_json_reply("not JSON at all", ResponseFormat(type="text"), "claude")
    check_json_reply("not JSON at all", None, "claude")
    for text, fmt in [("```json\n{}\n```", obj), ("[1, 2]", obj), ("Sure! {", schema)]:
        with pytest.raises(UpstreamProtocolError) as caught:
            check_json_reply(text, fmt, "claude")
        assert caught.value.provider == "claude"


def test_default_max_tokens_comes_from_the_catalog() -> None:
    catalog = Catalog.default()
    sonnet = catalog.get("claude-sonnet-4-5")
    assert sonnet is not None and sonnet.max_output_tokens
    assert default_max_tokens("claude-sonnet-4-5", catalog) == sonnet.max_output_tokens
    assert default_max_tokens("claude-sonnet-4-5", catalog, configured=2000) == 2000
    assert default_max_tokens("my-fine-tune", catalog) == 4096


# -- reply --------------------------------------------------------------------------------------


def test_a_text_message_with_cache_usage() -> None:
    used = usage(100, 40, cache_creation=20, cache_read=30)
    body = orjson.dumps(message([text_block("Hi! My name is Claude.")], usage=used))
    response = response_from_anthropic(body, "claude", created=1700000000)
    assert response.id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert (response.created, response.provider) == (1700000000, "claude")
    assert response.model == "claude-sonnet-4-5-20250929"
    assert response.text == "Hi! My name is Claude."
    assert response.choices[0].finish_reason == "stop"
    got = response.usage
    assert (got.input_tokens, got.output_tokens, got.cached_input_tokens) == (150, 40, 30)


def test_tool_use_keeps_the_input_text_byte_for_byte() -> None:
    raw_paris = '{ "location" : "Paris, France",\n  "unit":"celsius", "note": "caf\\u00e9" }'
    raw_oslo = '{"location":"Oslo"}'
    content = [
        thinking_block("The user wants two cities."),
        text_block("I'll check both."),
        tool_use_block("toolu_01A", "get_weather", {}),
        tool_use_block("toolu_01B", "get_weather", {}),
    ]
    data = orjson.dumps(message(content, stop_reason="tool_use")).decode()
    data = data.replace('"input":{}', f'"input":  {raw_paris}', 1)
    data = data.replace('"input":{}', f'"input":{raw_oslo}', 1)
    response = response_from_anthropic(data.encode(), "claude", created=1)
    calls = response.message.tool_calls
    assert calls is not None
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("toolu_01A", "get_weather", raw_paris),
        ("toolu_01B", "get_weather", raw_oslo),
    ]
    assert response.text == "I'll check both."
    assert response.message.reasoning == "The user wants two cities."
    assert response.choices[0].finish_reason == "tool_calls"


def test_tool_use_only_has_no_text_and_thinking_tokens_count_as_reasoning() -> None:
    used = {**usage(10, 50), "output_tokens_details": {"thinking_tokens": 30}}
    content = [tool_use_block("toolu_1", "ping", {})]
    body = orjson.dumps(message(content, stop_reason="tool_use", usage=used))
    response = response_from_anthropic(body, "claude", created=1)
    assert response.message.content is None
    assert response.message.tool_calls == [ToolCall(id="toolu_1", name="ping", arguments="{}")]
    assert response.usage.reasoning_tokens == 30


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_stop_reasons(stop_reason: str | None, finish: str) -> None:
    body = orjson.dumps(message([text_block("x")], stop_reason=stop_reason))
    assert response_from_anthropic(body, "claude", created=1).choices[0].finish_reason == finish


def test_an_error_payload_in_a_2xx_reply_is_raised() -> None:
    body = orjson.dumps(error_body("overloaded_error", "Overloaded"))
    with pytest.raises(ProviderUnavailable):
        response_from_anthropic(body, "claude", created=1)


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "x", "content": [ {oops',
        b"[]",
        b'{"id": "msg_1", "type": "message"}',
        orjson.dumps(message([{"type": "tool_use", "name": "f", "input": {}}])),
    ],
)
def test_unreadable_replies_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(UpstreamProtocolError) as caught:
        response_from_anthropic(body, "claude", created=1)
    assert caught.value.provider == "claude"


def test_model_pages() -> None:
    page = orjson.dumps(models_page(["claude-a", "claude-b"], has_more=True))
    assert model_page_from_anthropic(page, "claude") == (["claude-a", "claude-b"], "claude-b")
    last = orjson.dumps(models_page(["claude-c"]))
    assert model_page_from_anthropic(last, "claude") == (["claude-c"], None)
    with pytest.raises(UpstreamProtocolError):
        model_page_from_anthropic(b'{"models": []}', "claude")


def test_member_texts_reads_values_as_written() -> None:
    document = ' {"id" : "m", "content":[ {"input" : {"a": [1, {"b": "}"}]} }, "x", {"t": 1} ]}'
    assert member_texts(document, "content", "input") == ['{"a": [1, {"b": "}"}]}', None, None]
    for broken in ['{"content": [', "[]", '{"other": []}', '{"content": [1 2]}']:
        with pytest.raises(ValueError):
            member_texts(broken, "content", "input")


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (400, "invalid_request_error", InvalidRequest),
        (401, "authentication_error", UpstreamAuthenticationError),
        (402, "billing_error", RateLimited),
        (403, "permission_error", UpstreamAuthenticationError),
        (404, "not_found_error", ModelNotFound),
        (413, "request_too_large", PayloadTooLarge),
        (429, "rate_limit_error", RateLimited),
        (500, "api_error", ProviderUnavailable),
        (502, "api_error", ProviderUnavailable),
        (504, "timeout_error", Timeout),
        (529, "overloaded_error", ProviderUnavailable),
        (418, "rate_limit_error", RateLimited),  # unknown status: the type decides
        (418, "mystery_error", InvalidRequest),
    ],
)
def test_statuses_map_onto_the_taxonomy(
    status: int, kind: str, expected: type[SwitchyardError]
) -> None:
    error = map_error(status, {}, orjson.dumps(error_body(kind, "scripted")), "claude")
    assert type(error) is expected
    assert (error.message, error.provider, error.upstream_status) == ("scripted", "claude", status)


def test_retry_after_and_context_length() -> None:
    body = orjson.dumps(error_body("rate_limit_error", "Number of request tokens has exceeded"))
    limited = map_error(429, {"Retry-After": "7"}, body, "claude")
    assert isinstance(limited, RateLimited) and limited.retry_after == 7.0
    too_long = orjson.dumps(
        error_body("invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum")
    )
    assert isinstance(map_error(400, {}, too_long, "claude"), ContextLengthExceeded)


def test_bodies_that_are_not_anthropic_errors_map_by_status() -> None:
    page = map_error(502, {}, b"<html>Bad Gateway</html>", "claude")
    assert isinstance(page, ProviderUnavailable) and "Bad Gateway" in page.message
    empty = map_error(529, {}, b"", "claude")
    assert isinstance(empty, ProviderUnavailable) and "529" in empty.message


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("overloaded_error", ProviderUnavailable),
        ("api_error", ProviderUnavailable),
        ("rate_limit_error", RateLimited),
        ("invalid_request_error", InvalidRequest),
        ("something_new", ProviderUnavailable),
    ],
)
def test_error_payloads_without_a_status(kind: str, expected: type[SwitchyardError]) -> None:
    error = map_error_payload(error_body(kind, "mid-stream"), "claude")
    assert type(error) is expected and error.provider == "claude"
