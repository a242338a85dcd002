"""The native completion format: requests to canonical, answers and errors to the wire."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.doors.errors import BodyTimeout, Overloaded, ShuttingDown
from switchyard.doors.native.complete import (
    ChunkEvent,
    CompleteResponse,
    DoneEvent,
    ErrorBody,
    chunk_to_native,
    done_to_native,
    parse_request,
    response_to_native,
    to_chat_request,
)
from switchyard.doors.native.error_types import error_to_native
from switchyard.errors import (
    AuthenticationError,
    ContentFiltered,
    ContextLengthExceeded,
    DeadlineExceeded,
    InvalidRequest,
    LimitExceeded,
    LimitsUnavailable,
    ModelNotAllowed,
    ModelNotFound,
    NoHealthyDeployment,
    PayloadTooLarge,
    ProviderUnavailable,
    QuotaExceeded,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    Cost,
    ImagePart,
    Message,
    NamedToolChoice,
    ServedBy,
    TextPart,
    ToolCall,
    ToolCallDelta,
    Usage,
)


def test_a_prompt_and_a_system_prompt_become_two_messages() -> None:
    request = parse_request(
        {"prompt": "Hi", "system": "Be brief", "max_tokens": 5, "stop": "\n", "temperature": 0.2}
    )
    chat = to_chat_request(request, "smart", stream=False)
    assert chat.model == "smart"
    assert [(m.role, m.content) for m in chat.messages] == [
        ("system", "Be brief"),
        ("user", "Hi"),
    ]
    assert (chat.max_tokens, chat.stop, chat.temperature, chat.stream) == (5, ["\n"], 0.2, False)


def test_messages_with_images_tools_and_tool_results_translate_whole() -> None:
    body: dict[str, Any] = {
        "model": "smart",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image", "url": "data:image/png;base64,iVBORw0KGgo="},
                ],
            },
            {
                "role": "assistant",
                "tool_calls": [{"id": "c1", "name": "look", "arguments": '{"x": 1}'}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
        ],
        "tools": [{"name": "look", "parameters": {"type": "object", "properties": {}}}],
        "tool_choice": {"name": "look"},
        "metadata": {"team": "search"},
        "tags": ["native"],
    }
    chat = to_chat_request(parse_request(body), "smart", stream=True)
    first, second, third = chat.messages
    assert first.content == [
        TextPart(text="What is this?"),
        ImagePart(url="data:image/png;base64,iVBORw0KGgo="),
    ]
    assert second.tool_calls == [ToolCall(id="c1", name="look", arguments='{"x": 1}')]
    assert (third.role, third.tool_call_id, third.content) == ("tool", "c1", "a cat")
    assert chat.tools is not None and chat.tools[0].name == "look"
    assert chat.tool_choice == NamedToolChoice(name="look")
    assert (chat.metadata, chat.tags, chat.stream, chat.include_usage) == (
        {"team": "search"},
        ["native"],
        True,
        True,
    )


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, None),  # neither messages nor prompt
        ({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}, None),
        ({"prompt": ""}, "prompt"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
        ({"prompt": "a", "max_tokens": 0}, "max_tokens"),
        ({"prompt": "a", "temperature": 3}, "temperature"),
        ({"prompt": "a", "top_p": 0}, "top_p"),
        ({"prompt": "a", "model": ""}, "model"),
        ({"prompt": "a", "stop": ["x"] * 17}, None),
        ({"prompt": "a", "unknown": 1}, "unknown"),
        ({"prompt": "a", "metadata": {"k": 1}}, "metadata.k"),
        ({"prompt": "a", "tool_choice": "sometimes"}, "tool_choice"),
        ({"prompt": "a", "tags": ["t"] * 17}, "tags"),
        ({"prompt": "a", "tags": ["has space"]}, "tags.0"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(body: dict[str, Any], param: str | None) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_request(body)
    assert refused.value.status_code == 400
    if param is not None:
        assert refused.value.param is not None and refused.value.param.startswith(param)
        assert refused.value.message.startswith(refused.value.param)
    else:
        assert "messages" in refused.value.message or "stop" in refused.value.message


def _response(**overrides: Any) -> ChatResponse:
    fields: dict[str, Any] = {
        "id": "r1",
        "created": 1,
        "model": "gpt-4.1",
        "provider": "openai",
        "choices": [Choice(message=Message(role="assistant", content="Hello"))],
        "usage": Usage(input_tokens=10, output_tokens=2, cached_input_tokens=4),
        "cost": Cost(input=0.00002, output=0.000016, total=0.000036),
        "served_by": ServedBy(provider="openai", model="gpt-4.1-2025-04-14"),
    }
    fields.update(overrides)
    return ChatResponse(**fields)


def test_an_answer_is_a_valid_complete_response() -> None:
    facts = {"provider": "openai", "model": "gpt-4.1", "context_window": 1047576}
    body = response_to_native(_response(), facts, 12.34567)
    CompleteResponse.model_validate(body)
    assert body["text"] == "Hello"
    assert body["model"] == "gpt-4.1-2025-04-14"  # what answered, not what was asked
    assert body["usage"] == {
        "input_tokens": 10,
        "output_tokens": 2,
        "total_tokens": 12,
        "cached_input_tokens": 4,
        "reasoning_tokens": 0,
    }
    assert body["cost"]["total"] == 0.000036
    assert body["latency_ms"] == 12.346
    assert body["capabilities"] is facts
    assert "tool_calls" not in body


def test_an_unpriced_answer_has_a_null_cost_and_tool_calls_are_listed() -> None:
    message = Message(
        role="assistant", tool_calls=[ToolCall(id="c", name="f", arguments='{"a":1}')]
    )
    response = _response(cost=None, choices=[Choice(message=message, finish_reason="tool_calls")])
    body = response_to_native(response, {"provider": "p", "model": "m"}, 1.0)
    assert body["cost"] is None
    assert body["finish_reason"] == "tool_calls"
    assert body["tool_calls"] == [{"id": "c", "name": "f", "arguments": '{"a":1}'}]
    assert body["text"] == ""


def test_chunks_carry_text_and_tool_call_pieces_and_nothing_else() -> None:
    text = ChatChunk(id="s", created=1, model="m", text="Hel")
    assert chunk_to_native(text) == {"text": "Hel"}
    ChunkEvent.model_validate(chunk_to_native(text))
    call = ChatChunk(
        id="s",
        created=1,
        model="m",
        tool_calls=[ToolCallDelta(index=0, id="c", name="f", arguments='{"a"')],
    )
    assert chunk_to_native(call) == {
        "tool_calls": [{"index": 0, "id": "c", "name": "f", "arguments": '{"a"'}]
    }
    more = ChatChunk(
        id="s", created=1, model="m", tool_calls=[ToolCallDelta(index=0, arguments=":1}")]
    )
    assert chunk_to_native(more) == {"tool_calls": [{"index": 0, "arguments": ":1}"}]}
    usage_only = ChatChunk(id="s", created=1, model="m", usage=Usage(), finish_reason="stop")
    assert chunk_to_native(usage_only) is None


def test_the_done_event_validates() -> None:
    body = done_to_native(
        "s", "m", "p", "stop", Usage(input_tokens=1, output_tokens=2), Cost(total=0.5), 3.0
    )
    DoneEvent.model_validate(body)
    assert body["usage"]["total_tokens"] == 3 and body["cost"]["total"] == 0.5


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        (RateLimited("slow down", retry_after=2), "RATE_LIMIT", 429),
        (LimitExceeded("over rpm"), "RATE_LIMIT", 429),
        (QuotaExceeded("budget spent"), "RATE_LIMIT", 429),
        (ContextLengthExceeded("too long"), "CONTEXT_LENGTH", 400),
        (ModelNotFound("no such model", param="model"), "MODEL_NOT_FOUND", 404),
        (Timeout("slow"), "TIMEOUT", 504),
        (DeadlineExceeded("over"), "TIMEOUT", 504),
        (BodyTimeout("body late"), "TIMEOUT", 408),
        (ProviderUnavailable("503 upstream"), "PROVIDER_ERROR", 503),
        (UpstreamProtocolError("garbled"), "PROVIDER_ERROR", 502),
        (UpstreamAuthenticationError("bad upstream key"), "PROVIDER_ERROR", 502),
        (NoHealthyDeployment("all open"), "PROVIDER_ERROR", 503),
        (LimitsUnavailable("redis down"), "PROVIDER_ERROR", 503),
        (Overloaded("busy"), "PROVIDER_ERROR", 503),
        (ShuttingDown("bye"), "PROVIDER_ERROR", 503),
        (AuthenticationError("who are you"), "INVALID_REQUEST", 401),
        (ModelNotAllowed("not yours", param="model"), "INVALID_REQUEST", 403),
        (InvalidRequest("bad", param="messages"), "INVALID_REQUEST", 400),
        (ContentFiltered("filtered"), "INVALID_REQUEST", 400),
        (PayloadTooLarge("big"), "INVALID_REQUEST", 413),
        (SwitchyardError("a bug"), "UNKNOWN", 500),
    ],
)
def test_every_error_of_the_taxonomy_has_a_native_type(
    error: SwitchyardError, kind: str, status: int
) -> None:
    body = error_to_native(error)
    ErrorBody.model_validate(body)
    assert body["error"]["type"] == kind
    assert body["error"]["code"] == error.code
    assert body["error"]["message"] == error.message
    assert body["error"].get("param") == error.param
    assert error.status_code == status
