"""The Anthropic door's translation, as pure functions, with the payloads of Anthropic's API
reference (the ``get_weather`` tool-use walk-through of its tool-use guide, the extended
thinking example, the streaming reference's event sequence, the errors page)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from switchyard.doors.anthropic.events import MessageEvents, error_event
from switchyard.doors.anthropic.reply import response_to_anthropic, stop_reason
from switchyard.doors.anthropic.request import request_from_anthropic
from switchyard.doors.errors import Overloaded
from switchyard.errors import (
    AuthenticationError,
    InvalidRequest,
    ModelNotAllowed,
    ModelNotFound,
    NoHealthyDeployment,
    PayloadTooLarge,
    ProviderUnavailable,
    QuotaExceeded,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamProtocolError,
)
from switchyard.formats.anthropic_errors import error_to_anthropic
from switchyard.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ImagePart,
    Message,
    NamedToolChoice,
    Reasoning,
    TextPart,
    ThinkingBlock,
    ToolCall,
    ToolCallDelta,
    Usage,
)

GET_WEATHER: Any = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "The city and state, e.g. San Francisco, CA",
            }
        },
        "required": ["location"],
    },
}
TOOL_USE_ID = "toolu_01A09q90qw90lq917835lq9"
# the tool-use guide's second request: the history with the tool's result
TOOL_RESULT_REQUEST: Any = {
    "model": "claude-opus-4-1-20250805",
    "max_tokens": 1024,
    "tools": [GET_WEATHER],
    "messages": [
        {"role": "user", "content": "What's the weather like in San Francisco?"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "text",
                    "text": "I'll check the current weather in San Francisco for you.",
                },
                {
                    "type": "tool_use",
                    "id": TOOL_USE_ID,
                    "name": "get_weather",
                    "input": {"location": "San Francisco, CA"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": TOOL_USE_ID, "content": "15 degrees"}
            ],
        },
    ],
}


def test_tool_use_history() -> None:
    chat = request_from_anthropic(TOOL_RESULT_REQUEST)
    assert chat.model == "claude-opus-4-1-20250805" and chat.max_tokens == 1024
    assert chat.tools is not None and chat.tools[0].name == "get_weather"
    assert chat.tools[0].parameters == GET_WEATHER["input_schema"]
    user, assistant, tool = chat.messages
    assert user == Message(role="user", content="What's the weather like in San Francisco?")
    assert assistant.content == [
        TextPart(text="I'll check the current weather in San Francisco for you.")
    ]
    assert assistant.tool_calls == [
        ToolCall(id=TOOL_USE_ID, name="get_weather", arguments='{"location":"San Francisco, CA"}')
    ]
    assert tool == Message(role="tool", tool_call_id=TOOL_USE_ID, content="15 degrees")
    assert chat.format_fields is None and not chat.stream


def test_system_blocks_images_and_cache_markers() -> None:
    chat = request_from_anthropic(
        {
            "model": "m",
            "max_tokens": 10,
            "system": [
                {"type": "text", "text": "Knowledge base", "cache_control": {"type": "ephemeral"}}
            ],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/jpeg",
                                "data": "/9j/4AAQSkZJRg==",
                            },
                        },
                        {"type": "image", "source": {"type": "url", "url": "https://x.test/i.png"}},
                        {"type": "text", "text": "Describe"},
                    ],
                }
            ],
        }
    )
    system, user = chat.messages
    assert system.content == [TextPart(text="Knowledge base", cache_control={"type": "ephemeral"})]
    assert user.content == [
        ImagePart(url="data:image/jpeg;base64,/9j/4AAQSkZJRg=="),
        ImagePart(url="https://x.test/i.png"),
        TextPart(text="Describe"),
    ]


def test_extended_thinking_and_options() -> None:
    chat = request_from_anthropic(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 16000,
            "thinking": {"type": "enabled", "budget_tokens": 10000},
            "top_k": 5,
            "temperature": 1,
            "top_p": 0.9,
            "stop_sequences": ["\n\nHuman:"],
            "metadata": {"user_id": "u-1"},
            "stream": True,
            "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
            "tools": [GET_WEATHER],
            "messages": [
                {"role": "user", "content": "Are there an infinite number of primes?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "Euclid.", "signature": "WaUjzkyp"},
                        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
                        {"type": "text", "text": "Yes."},
                    ],
                },
                {"role": "user", "content": "Prove it."},
            ],
        }
    )
    assert chat.format_fields is not None and chat.format_fields.format == "anthropic"
    assert chat.format_fields.fields == {
        "thinking": {"type": "enabled", "budget_tokens": 10000},
        "top_k": 5,
    }
    assert chat.stop == ["\n\nHuman:"] and chat.user == "u-1" and chat.stream
    assert chat.temperature == 1 and chat.top_p == 0.9
    assert chat.tool_choice == "required" and chat.parallel_tool_calls is False
    assistant = chat.messages[1]
    assert assistant.thinking == [
        ThinkingBlock(thinking="Euclid.", signature="WaUjzkyp"),
        ThinkingBlock(type="redacted_thinking", data="EmwKAhgBEgy3va3pzix"),
    ]
    assert assistant.reasoning == "Euclid."
    named = request_from_anthropic(
        {**TOOL_RESULT_REQUEST, "tool_choice": {"type": "tool", "name": "get_weather"}}
    )
    assert named.tool_choice == NamedToolChoice(name="get_weather")


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"model": 7}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        (
            {"messages": [{"role": "user", "content": [{"type": "search_result"}]}]},
            "messages[0].content[0].type",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]},
            "messages[0].content[0].source.type",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages[0].content[0].text",
        ),
        ({"tools": [{"type": 7, "name": "web_search"}]}, "tools[0].type"),
        ({"thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
        ({"thinking": {"type": "sometimes"}}, "thinking.type"),
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
        ({"output_config": {"format": {"type": "yaml"}}}, "output_config.format.type"),
        ({"tools": [{"name": "t"}]}, "tools[0].input_schema"),
        ({"tool_choice": {"type": "sometimes"}}, "tool_choice"),
        ({"system": [{"type": "image"}]}, "system[0]"),
        ({"temperature": "hot"}, "temperature"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, Any], param: str) -> None:
    body = {**TOOL_RESULT_REQUEST, **change}
    with pytest.raises(InvalidRequest) as caught:
        request_from_anthropic(body)
    assert caught.value.param == param
    assert param in caught.value.message


@pytest.mark.parametrize(
    ("fields", "reasoning"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 10000}}, Reasoning(budget_tokens=10000)),
        (
            {
                "thinking": {"type": "adaptive", "display": "omitted"},
                "output_config": {"effort": "max"},
            },
            Reasoning(effort="xhigh"),
        ),
        ({"thinking": {"type": "adaptive"}}, None),  # the upstream's own default
        ({"thinking": {"type": "disabled"}}, Reasoning(effort="none")),
        (
            {
                "thinking": {"type": "enabled", "budget_tokens": 2048},
                "output_config": {"effort": "low"},
            },
            Reasoning(effort="low", budget_tokens=2048),
        ),
        ({}, None),
    ],
)
def test_thinking_and_effort_become_the_canonical_reasoning(
    fields: dict[str, Any], reasoning: Reasoning | None
) -> None:
    chat = request_from_anthropic({**TOOL_RESULT_REQUEST, **fields})
    assert chat.reasoning == reasoning
    if fields:  # and an Anthropic upstream still gets them as they came
        assert chat.format_fields is not None
        assert {k: chat.format_fields.fields[k] for k in fields} == fields


def test_claude_code_fields_system_turns_and_tools() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    body = {
        **TOOL_RESULT_REQUEST,
        "system": [{"type": "text", "text": "Base.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            *TOOL_RESULT_REQUEST["messages"],
            {"role": "system", "content": [{"type": "text", "text": "10000 tokens left"}]},
        ],
        "tools": [
            {**GET_WEATHER, "defer_loading": True},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        ],
        "output_config": {"format": {"type": "json_schema", "schema": schema}},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "metadata": {"user_id": "user_" + "ab" * 32 + "_account__session_" + "c" * 36},
    }
    chat = request_from_anthropic(body)
    system = chat.messages[0]
    assert system.role == "system" and [m.role for m in chat.messages].count("system") == 1
    assert system.content == [
        TextPart(text="Base.", cache_control={"type": "ephemeral"}),
        TextPart(text="10000 tokens left"),
    ]
    assert [t.name for t in chat.tools or []] == ["get_weather"]
    assert chat.format_fields is not None
    assert chat.format_fields.fields["tools"] == body["tools"]
    assert chat.format_fields.fields["context_management"] == body["context_management"]
    assert chat.response_format is not None and chat.response_format.json_schema is not None
    assert chat.response_format.json_schema.schema_ == schema
    user_id = body["metadata"]["user_id"]  # longer than OpenAI's 64: a digest, and whole
    assert chat.user == hashlib.sha256(user_id.encode()).hexdigest()  # for Anthropic
    assert chat.format_fields.fields["metadata"] == body["metadata"]
    short = request_from_anthropic({**TOOL_RESULT_REQUEST, "metadata": {"user_id": "u-1"}})
    assert short.user == "u-1" and short.format_fields is None
    plain = request_from_anthropic({**TOOL_RESULT_REQUEST, "tools": [GET_WEATHER]})
    assert plain.format_fields is None  # nothing only the raw tools keep


def test_count_tokens_body_has_no_max_tokens() -> None:
    body = {k: v for k, v in TOOL_RESULT_REQUEST.items() if k != "max_tokens"}
    assert request_from_anthropic(body, count_only=True).max_tokens is None


# -- replies ----------------------------------------------------------------------------------


def _response(message: Message, finish: Any, usage: Usage) -> ChatResponse:
    return ChatResponse(
        id="msg_01Aq9w938a90dw8q",
        created=0,
        model="claude-opus-4-1-20250805",
        choices=[Choice(message=message, finish_reason=finish)],
        usage=usage,
    )


def test_tool_use_reply() -> None:
    raw = '{"location": "San Francisco, CA",  "unit": "celsius"}'
    message = Message(
        role="assistant",
        content="I'll check the current weather in San Francisco for you.",
        tool_calls=[ToolCall(id=TOOL_USE_ID, name="get_weather", arguments=raw)],
    )
    usage = Usage(input_tokens=1500, output_tokens=70, cached_input_tokens=1000)
    usage.cache_write_input_tokens = 100
    wire = orjson.dumps(response_to_anthropic(_response(message, "tool_calls", usage)))
    assert raw.encode() in wire  # the arguments as the upstream wrote them
    assert orjson.loads(wire) == {
        "id": "msg_01Aq9w938a90dw8q",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-1-20250805",
        "content": [
            {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
            {
                "type": "tool_use",
                "id": TOOL_USE_ID,
                "name": "get_weather",
                "input": {"location": "San Francisco, CA", "unit": "celsius"},
            },
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 400,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 1000,
            "output_tokens": 70,
        },
    }


def test_thinking_reply_and_arguments_that_are_not_an_object() -> None:
    message = Message(
        role="assistant",
        content="Yes.",
        reasoning="Euclid.",
        thinking=[
            ThinkingBlock(thinking="Euclid.", signature="WaUjzkyp"),
            ThinkingBlock(type="redacted_thinking", data="EmwK"),
        ],
        tool_calls=[ToolCall(id="t", name="f", arguments="not json")],
    )
    content = response_to_anthropic(_response(message, "stop", Usage()))["content"]
    assert content == [
        {"type": "thinking", "thinking": "Euclid.", "signature": "WaUjzkyp"},
        {"type": "redacted_thinking", "data": "EmwK"},
        {"type": "text", "text": "Yes."},
        {"type": "tool_use", "id": "t", "name": "f", "input": {}},
    ]
    only_reasoning = Message(role="assistant", content="Yes.", reasoning="Hmm.")
    content = response_to_anthropic(_response(only_reasoning, "stop", Usage()))["content"]
    assert content[0] == {"type": "thinking", "thinking": "Hmm.", "signature": ""}


@pytest.mark.parametrize(
    ("finish", "tools", "expected"),
    [
        ("stop", False, "end_turn"),
        ("length", False, "max_tokens"),
        ("tool_calls", True, "tool_use"),
        ("content_filter", False, "refusal"),
        (None, True, "tool_use"),
        (None, False, "end_turn"),
    ],
)
def test_stop_reasons(finish: Any, tools: bool, expected: str) -> None:
    assert stop_reason(finish, tools) == expected


# -- streamed events ----------------------------------------------------------------------------


def _events(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for frame in data.decode().split("\n\n"):
        if frame:
            name, payload = frame.split("\n")
            out.append((name.removeprefix("event: "), orjson.loads(payload.removeprefix("data: "))))
    return out


def _chunk(**fields: Any) -> ChatChunk:
    return ChatChunk(id="msg_014p7gG3wDgGV9EUtLvnow3U", created=0, model="claude-x", **fields)


def test_stream_of_text_then_a_tool_call() -> None:
    """The streaming reference's tool-use example, event for event."""
    events = MessageEvents("alias")
    data = events.chunk(_chunk(role="assistant", text="Okay"))
    data += events.chunk(_chunk(text=", let's check."))
    data += events.chunk(
        _chunk(tool_calls=[ToolCallDelta(index=0, id="toolu_01T1x", name="get_weather")])
    )
    for piece in ['{"location":', ' "San Francisco, CA"}']:
        data += events.chunk(_chunk(tool_calls=[ToolCallDelta(index=0, arguments=piece)]))
    data += events.chunk(
        _chunk(finish_reason="tool_calls", usage=Usage(input_tokens=472, output_tokens=89))
    )
    data += events.end()
    got = _events(data)
    assert [name for name, _ in got] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = got[0][1]["message"]
    assert start["id"] == "msg_014p7gG3wDgGV9EUtLvnow3U" and start["model"] == "claude-x"
    assert start["content"] == [] and start["stop_reason"] is None
    assert got[6][1] == {
        "type": "content_block_start",
        "index": 1,
        "content_block": {
            "type": "tool_use",
            "id": "toolu_01T1x",
            "name": "get_weather",
            "input": {},
        },
    }
    assert got[8][1]["delta"] == {
        "type": "input_json_delta",
        "partial_json": ' "San Francisco, CA"}',
    }
    assert got[10][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {
            "input_tokens": 472,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 89,
        },
    }


def test_stream_of_thinking_with_signature_redacted_thinking_and_text() -> None:
    events = MessageEvents("alias")
    data = events.chunk(_chunk(role="assistant", reasoning="Let me "))
    data += events.chunk(_chunk(reasoning="think."))
    data += events.chunk(_chunk(signature="EqQBCgIY"))
    data += events.chunk(_chunk(reasoning="Second thought."))
    data += events.chunk(_chunk(redacted_thinking="EmwKAhgB"))
    data += events.chunk(_chunk(text="27 * 453 = 12,231"))
    data += events.chunk(_chunk(finish_reason="stop"))
    got = [
        (name, p.get("index"), p.get("delta") or p.get("content_block"))
        for name, p in _events(data + events.end())
    ]
    assert got[2:] == [
        ("content_block_start", 0, {"type": "thinking", "thinking": "", "signature": ""}),
        ("content_block_delta", 0, {"type": "thinking_delta", "thinking": "Let me "}),
        ("content_block_delta", 0, {"type": "thinking_delta", "thinking": "think."}),
        ("content_block_delta", 0, {"type": "signature_delta", "signature": "EqQBCgIY"}),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, {"type": "thinking", "thinking": "", "signature": ""}),
        ("content_block_delta", 1, {"type": "thinking_delta", "thinking": "Second thought."}),
        ("content_block_stop", 1, None),
        ("content_block_start", 2, {"type": "redacted_thinking", "data": "EmwKAhgB"}),
        ("content_block_stop", 2, None),
        ("content_block_start", 3, {"type": "text", "text": ""}),
        ("content_block_delta", 3, {"type": "text_delta", "text": "27 * 453 = 12,231"}),
        ("content_block_stop", 3, None),
        ("message_delta", None, {"stop_reason": "end_turn", "stop_sequence": None}),
        ("message_stop", None, None),
    ]


def test_a_stream_that_fails_ends_with_an_error_event() -> None:
    assert _events(error_event(ProviderUnavailable("upstream down"))) == [
        (
            "error",
            {"type": "error", "error": {"type": "overloaded_error", "message": "upstream down"}},
        )
    ]


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (InvalidRequest("x"), 400, "invalid_request_error"),
        (AuthenticationError("x"), 401, "authentication_error"),
        (ModelNotAllowed("x"), 403, "permission_error"),
        (ModelNotFound("x"), 404, "not_found_error"),
        (PayloadTooLarge("x"), 413, "request_too_large"),
        (RateLimited("x"), 429, "rate_limit_error"),
        (QuotaExceeded("x"), 429, "rate_limit_error"),
        (ProviderUnavailable("x"), 529, "overloaded_error"),
        (NoHealthyDeployment("x"), 529, "overloaded_error"),
        (Overloaded("x"), 529, "overloaded_error"),
        (Timeout("x"), 504, "timeout_error"),
        (UpstreamProtocolError("x"), 502, "api_error"),
        (SwitchyardError("x"), 500, "api_error"),
    ],
)
def test_errors_in_anthropic_shape(error: SwitchyardError, status: int, kind: str) -> None:
    assert error_to_anthropic(error) == (
        status,
        {"type": "error", "error": {"type": kind, "message": "x"}},
    )
