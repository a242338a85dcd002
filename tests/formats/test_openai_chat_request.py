"""The OpenAI chat codec's request side: a caller's body in (``request_from_openai``, with
the field named in every refusal) and the upstream body out (``request_to_openai``), replayed over
real recorded OpenAI requests and checked against OpenAI's OpenAPI description."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from switchyard.errors import InvalidRequest
from switchyard.formats.openai_chat import MaxTokensField, request_from_openai, request_to_openai
from switchyard.types import ChatRequest, ImagePart, Message, NamedToolChoice, TextPart, ToolCall
from tests.fakes.cassettes import load_cassette
from tests.fakes.openapi_schema import assert_valid
from tests.formats.chat_cassettes import CHAT_CASSETTES

INVALID_CASSETTES = {"chat-bad-request": "messages[0].content", "chat-no-messages": "messages"}
VALID_REQUESTS = [name for name in CHAT_CASSETTES if name not in INVALID_CASSETTES]


def as_upstream_body(body: dict[str, Any]) -> dict[str, Any]:
    """What the codec should send for a caller's body: the same, except that ``stop`` is
    always a list and a stream always asks for usage."""
    expected = copy.deepcopy(body)
    if isinstance(expected.get("stop"), str):
        expected["stop"] = [expected["stop"]]
    if expected.get("stream"):
        expected["stream_options"] = {**expected.get("stream_options", {}), "include_usage": True}
    return expected


# -- cassette replay ---------------------------------------------------------------------------


def test_the_cassettes_are_there() -> None:
    assert len(CHAT_CASSETTES) >= 14
    assert {"chat-tools", "chat-streaming", "chat-multimodal"} <= set(CHAT_CASSETTES)


@pytest.mark.parametrize("name", VALID_REQUESTS)
def test_request_round_trips_through_the_canonical_request(name: str) -> None:
    body = load_cassette(name).request_json
    field: MaxTokensField = (
        "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    )

    sent = request_to_openai(request_from_openai(body), max_tokens_field=field)

    assert sent == as_upstream_body(body)
    assert_valid("CreateChatCompletionRequest", sent)


@pytest.mark.parametrize(("name", "param"), INVALID_CASSETTES.items())
def test_requests_openai_refused_are_refused_naming_the_field(name: str, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_from_openai(load_cassette(name).request_json)
    assert caught.value.param == param
    assert param in caught.value.message


# -- request_from_openai ------------------------------------------------------------------------


def full_request() -> dict[str, Any]:
    return {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
            {
                "role": "user",
                "name": "ann",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "annotations": [],
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "look", "arguments": '{"q": "y.png"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "a boardwalk"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "look",
                    "description": "Look closer",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                    "strict": True,
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "look"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": {"type": "object"},
                "strict": True,
                "description": "d",
            },
        },
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 300,
        "stop": "END",
        "seed": 7,
        "n": 2,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.5,
        "logprobs": True,
        "top_logprobs": 3,
        "user": "user-1",
        "metadata": {"team": "search"},
        "stream": True,
        "stream_options": {"include_usage": True, "include_obfuscation": False},
        "logit_bias": {"50256": -100},
        "service_tier": "flex",
        "reasoning_effort": "low",
        "store": False,
        "switchyard": {"timeout": 12.5, "fallbacks": ["cheap"], "prefer": "azure"},
    }


def test_every_field_maps_to_the_canonical_request() -> None:
    request = request_from_openai(full_request())

    assert request.model == "gpt-4.1"
    system, developer, user, assistant, tool = request.messages
    assert system == Message(role="system", content="Be brief.")
    assert developer.content == [TextPart(text="Use tools.")]
    assert user.name == "ann"
    assert user.content == [
        TextPart(text="What is this?"),
        ImagePart(url="https://x/y.png", detail="low"),
        ImagePart(url="data:image/png;base64,AAAA"),
    ]
    assert assistant.tool_calls == [ToolCall(id="call_1", name="look", arguments='{"q": "y.png"}')]
    assert assistant.content is None
    assert (tool.tool_call_id, tool.content) == ("call_1", "a boardwalk")
    assert request.tools is not None and request.tools[0].strict is True
    assert request.tools[0].parameters["properties"] == {"q": {"type": "string"}}
    assert request.tool_choice == NamedToolChoice(name="look")
    assert request.parallel_tool_calls is False
    assert request.response_format is not None and request.response_format.json_schema is not None
    assert request.response_format.json_schema.schema_ == {"type": "object"}
    assert (request.temperature, request.top_p, request.max_tokens) == (0.2, 0.9, 300)
    assert (request.stop, request.seed, request.n) == (["END"], 7, 2)
    assert (request.presence_penalty, request.frequency_penalty) == (0.5, -0.5)
    assert (request.logprobs, request.top_logprobs) == (True, 3)
    assert (request.user, request.metadata) == ("user-1", {"team": "search"})
    assert (request.stream, request.include_usage) == (True, True)
    assert request.extra == {
        "stream_options": {"include_obfuscation": False},
        "logit_bias": {"50256": -100},
        "service_tier": "flex",
        "reasoning_effort": "low",
        "store": False,
    }
    assert (request.timeout, request.fallbacks, request.prefer) == (12.5, ["cheap"], "azure")


def test_the_full_request_goes_back_upstream_unchanged() -> None:
    body = full_request()
    sent = request_to_openai(request_from_openai(body), max_tokens_field="max_completion_tokens")
    expected = as_upstream_body(body)
    del expected["switchyard"]
    for message in expected["messages"]:  # response-only fields are not sent back
        message.pop("annotations", None)
        message.pop("refusal", None)
    assert sent == expected
    assert list(sent)[-1] == "store"  # extra is merged last


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", "auto"), ("none", "none"), ("required", "required")],
)
def test_tool_choice_modes(choice: str, expected: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": choice}
    assert request_from_openai(body).tool_choice == expected


@pytest.mark.parametrize("kind", ["text", "json_object"])
def test_simple_response_formats(kind: str) -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": kind},
    }
    request = request_from_openai(body)
    assert request.response_format is not None and request.response_format.type == kind
    assert request_to_openai(request)["response_format"] == {"type": kind}


def test_max_tokens_and_nulls() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi", "name": None}],
        "max_tokens": 5,
        "temperature": None,
        "stream": None,
        "stop": None,
        "tools": None,
    }
    request = request_from_openai(body)
    assert request.max_tokens == 5
    assert request.temperature is None and request.stream is False and request.tools is None
    assert request_to_openai(request) == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 5,
    }


def test_reasoning_in_the_history_is_read_but_not_sent_back() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "reasoning_content": "greet back"},
        ],
    }
    request = request_from_openai(body)
    assert request.messages[1].reasoning == "greet back"
    assert request_to_openai(request)["messages"][1] == {"role": "assistant", "content": "hello"}


def test_assistant_refusal_parts_become_the_refusal() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help."}]},
        ],
    }
    assistant = request_from_openai(body).messages[1]
    assert (assistant.content, assistant.refusal) == (None, "I can't help.")
    assert request_to_openai(request_from_openai(body))["messages"][1] == {
        "role": "assistant",
        "content": None,
        "refusal": "I can't help.",
    }


def minimal(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    body.update(changes)
    return body


def user(content: Any) -> dict[str, Any]:
    return minimal(messages=[{"role": "user", "content": content}])


CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
INVALID = [
    ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
    (minimal(model=""), "model"),
    (minimal(model=5), "model"),
    ({"model": "m"}, "messages"),
    (minimal(messages=[]), "messages"),
    (minimal(messages="hi"), "messages"),
    (minimal(messages=[{"role": "user", "content": "hi"}, "hello"]), "messages[1]"),
    (minimal(messages=[{"role": "robot", "content": "hi"}]), "messages[0].role"),
    (minimal(messages=[{"role": "function", "name": "f", "content": "x"}]), "messages[0].role"),
    (minimal(messages=[{"role": "user"}]), "messages[0].content"),
    (user(5), "messages[0].content"),
    (user([]), "messages[0].content"),
    (user(["hi"]), "messages[0].content[0]"),
    (user([{"type": "text", "text": 5}]), "messages[0].content[0].text"),
    (
        user([{"type": "text", "text": "a"}, {"type": "input_audio", "input_audio": {}}]),
        "messages[0].content[1].type",
    ),
    (user([{"type": "file", "file": {"file_id": "f"}}]), "messages[0].content[0].file.file_id"),
    (
        user([{"type": "file", "file": {"file_data": "JVBERi0="}}]),
        "messages[0].content[0].file.file_data",
    ),
    (user([{"type": "file", "file": "x"}]), "messages[0].content[0].file"),
    (user([{"type": "video"}]), "messages[0].content[0].type"),
    (user([{"type": "refusal", "refusal": "no"}]), "messages[0].content[0].type"),
    (
        minimal(messages=[{"role": "assistant", "content": [{"type": "refusal", "refusal": 1}]}]),
        "messages[0].content[0].refusal",
    ),
    (user([{"type": "image_url", "image_url": {}}]), "messages[0].content[0].image_url.url"),
    (user([{"type": "image_url"}]), "messages[0].content[0].image_url"),
    (
        user([{"type": "image_url", "image_url": {"url": "https://x", "detail": "ultra"}}]),
        "messages[0].content[0].image_url.detail",
    ),
    (
        minimal(
            messages=[
                {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}
            ]
        ),
        "messages[0].content[0].type",
    ),
    (minimal(messages=[{"role": "user", "content": "hi", "name": 5}]), "messages[0].name"),
    (minimal(messages=[{"role": "user", "content": "hi", "colour": "red"}]), "messages[0].colour"),
    (minimal(messages=[{"role": "tool", "content": "42"}]), "messages[0].tool_call_id"),
    (
        minimal(
            messages=[
                {
                    "role": "assistant",
                    "tool_calls": [{**CALL, "function": {"name": "f", "arguments": {}}}],
                }
            ]
        ),
        "messages[0].tool_calls[0].function.arguments",
    ),
    (
        minimal(messages=[{"role": "assistant", "tool_calls": [{**CALL, "id": None}]}]),
        "messages[0].tool_calls[0].id",
    ),
    (
        minimal(messages=[{"role": "assistant", "tool_calls": [{**CALL, "type": "custom"}]}]),
        "messages[0].tool_calls[0].type",
    ),
    (minimal(tools=[{"type": "function", "function": {}}]), "tools[0].function.name"),
    (minimal(tools=[{"type": "custom", "custom": {"name": "x"}}]), "tools[0].type"),
    (
        minimal(tools=[{"type": "function", "function": {"name": "f", "parameters": []}}]),
        "tools[0].function.parameters",
    ),
    (minimal(tools={"type": "function"}), "tools"),
    (minimal(tool_choice="sometimes"), "tool_choice"),
    (minimal(tool_choice={"type": "function", "function": {}}), "tool_choice.function.name"),
    (minimal(response_format={"type": "xml"}), "response_format.type"),
    (minimal(response_format={"type": "json_schema"}), "response_format.json_schema"),
    (
        minimal(response_format={"type": "json_schema", "json_schema": {}}),
        "response_format.json_schema.name",
    ),
    (
        minimal(
            response_format={"type": "json_schema", "json_schema": {"name": "n", "strict": "yes"}}
        ),
        "response_format.json_schema.strict",
    ),
    (minimal(temperature="hot"), "temperature"),
    (minimal(temperature=2.5), "temperature"),
    (minimal(temperature=-0.5), "temperature"),
    (minimal(top_p=1.5), "top_p"),
    (minimal(presence_penalty=3), "presence_penalty"),
    (minimal(max_tokens="many"), "max_tokens"),
    (minimal(max_tokens=0), "max_tokens"),
    (minimal(max_completion_tokens=0), "max_completion_tokens"),
    (minimal(n=0), "n"),
    (minimal(seed=1.5), "seed"),
    (minimal(top_logprobs=21), "top_logprobs"),
    (minimal(logprobs="yes"), "logprobs"),
    (minimal(stream="yes"), "stream"),
    (minimal(stream_options=True), "stream_options"),
    (minimal(stream=True, stream_options={"include_usage": "yes"}), "stream_options.include_usage"),
    (minimal(stop=[1]), "stop[0]"),
    (minimal(metadata={"a": 1}), "metadata.a"),
    (minimal(user=5), "user"),
    (minimal(parallel_tool_calls="no"), "parallel_tool_calls"),
    (minimal(switchyard={"timeout": "soon"}), "switchyard.timeout"),
    (minimal(switchyard={"timeout": -1}), "switchyard.timeout"),
    (minimal(switchyard={"fallbacks": "cheap"}), "switchyard.fallbacks"),
    (minimal(switchyard={"retries": 3}), "switchyard.retries"),
    (minimal(switchyard=[]), "switchyard"),
    # an array or object where a name is expected (found by tests/e2e/test_fuzz_openapi.py)
    (minimal(messages=[{"role": ["user"], "content": "hi"}]), "messages[0].role"),
    (minimal(messages=[{"role": {}, "content": "hi"}]), "messages[0].role"),
    (user([{"type": ["text"], "text": "a"}]), "messages[0].content[0].type"),
    (
        user([{"type": "image_url", "image_url": {"url": "https://x", "detail": ["low"]}}]),
        "messages[0].content[0].image_url.detail",
    ),
]


@pytest.mark.parametrize(("body", "param"), INVALID, ids=[param for _, param in INVALID])
def test_invalid_requests_name_the_offending_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_from_openai(body)
    assert caught.value.param == param
    assert f"'{param}'" in caught.value.message
    assert caught.value.status_code == 400


def test_a_body_that_is_not_an_object_is_invalid() -> None:
    with pytest.raises(InvalidRequest):
        request_from_openai([])  # type: ignore[arg-type]


# -- request_to_openai --------------------------------------------------------------------------


def canonical(**changes: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message(role="user", content="hi")], **changes)


def test_streams_always_ask_for_usage() -> None:
    body = request_to_openai(canonical(stream=True, include_usage=False))
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_stream_override_and_non_streams_say_nothing_about_streaming() -> None:
    assert "stream" not in request_to_openai(canonical())
    body = request_to_openai(canonical(stream=True), stream=False)
    assert "stream" not in body and "stream_options" not in body
    assert request_to_openai(canonical(), stream=True)["stream_options"] == {"include_usage": True}


def test_max_tokens_field_is_chosen_by_the_caller_and_extra_wins() -> None:
    assert request_to_openai(canonical(max_tokens=9))["max_tokens"] == 9
    body = request_to_openai(canonical(max_tokens=9), max_tokens_field="max_completion_tokens")
    assert body["max_completion_tokens"] == 9 and "max_tokens" not in body
    body = request_to_openai(canonical(max_tokens=9, extra={"max_completion_tokens": 4}))
    assert body["max_completion_tokens"] == 4 and "max_tokens" not in body


def test_extra_is_merged_last() -> None:
    body = request_to_openai(canonical(temperature=1.0, extra={"temperature": 0.0, "top_k": 5}))
    assert body["temperature"] == 0.0 and body["top_k"] == 5


def test_images_go_back_as_image_url_parts() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message(
                role="user",
                content=[TextPart(text="see"), ImagePart(url="https://x/a.png", detail="high")],
            )
        ],
    )
    assert request_to_openai(request)["messages"][0]["content"] == [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "high"}},
    ]


def test_tools_without_parameters_get_an_empty_object_schema() -> None:
    body = minimal(tools=[{"type": "function", "function": {"name": "now"}}])
    sent = request_to_openai(request_from_openai(body))
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {"name": "now", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    assert_valid("CreateChatCompletionRequest", sent)
