"""Ollama translation, pure: canonical requests -> ``/api/chat`` JSON, and Ollama's documented
replies, NDJSON stream lines and errors -> canonical objects. Payloads follow the examples of
``docs/api.md``, ``docs/capabilities/tool-calling.mdx``, ``docs/api/errors.mdx`` and the types of
``api/types.go`` in https://github.com/ollama/ollama."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.providers.ollama.embed import (
    embed_request_to_ollama,
    embed_response_from_ollama,
    models_from_ollama,
    version_from_ollama,
)
from switchyard.providers.ollama.errors import map_error, map_error_line
from switchyard.providers.ollama.stream import OllamaStreamTranslator
from switchyard.providers.ollama.translate import (
    encode_arguments,
    request_to_ollama,
    response_from_ollama,
)
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    EmbeddingRequest,
    ImagePart,
    JsonSchemaFormat,
    Message,
    NamedToolChoice,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
)

TEMPERATURE = Tool(
    name="get_temperature",
    description="Get the current temperature for a city",
    parameters={
        "type": "object",
        "required": ["city"],
        "properties": {"city": {"type": "string", "description": "The name of the city"}},
    },
)
CONDITIONS = Tool(name="get_conditions", parameters={"type": "object", "properties": {}})
PIXEL_B64 = (  # a 1x1 transparent PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def chat(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="qwen3", messages=list(messages), **fields)


# -- requests -----------------------------------------------------------------------------------


def test_the_documented_tool_round_trip() -> None:
    """docs/capabilities/tool-calling.mdx, "Generate a response with a single tool result"."""
    request = chat(
        Message(role="user", content="What is the temperature in New York?"),
        Message(
            role="assistant",
            content="",
            reasoning="The user wants the temperature.",
            tool_calls=[
                ToolCall(
                    id="call_ab12cd34", name="get_temperature", arguments='{"city": "New York"}'
                )
            ],
        ),
        Message(role="tool", tool_call_id="call_ab12cd34", content="22°C"),
        tools=[TEMPERATURE],
    )
    assert request_to_ollama(request, stream=False) == {
        "model": "qwen3",
        "stream": False,
        "messages": [
            {"role": "user", "content": "What is the temperature in New York?"},
            {
                "role": "assistant",
                "content": "",
                "thinking": "The user wants the temperature.",
                "tool_calls": [
                    {
                        "id": "call_ab12cd34",
                        "function": {
                            "index": 0,
                            "name": "get_temperature",
                            "arguments": {"city": "New York"},
                        },
                    }
                ],
            },
            {
                "role": "tool",
                "content": "22°C",
                "tool_call_id": "call_ab12cd34",
                "tool_name": "get_temperature",
            },
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_temperature",
                    "parameters": TEMPERATURE.parameters,
                    "description": "Get the current temperature for a city",
                },
            }
        ],
    }


def test_tool_names_follow_the_latest_call_with_that_id() -> None:
    """Generated ids (``call_0``) repeat across turns: each result names its own turn's call."""
    first = ToolCall(id="call_0", name="get_temperature", arguments="{}")
    second = ToolCall(id="call_0", name="get_conditions", arguments="")
    request = chat(
        Message(role="assistant", tool_calls=[first]),
        Message(role="tool", tool_call_id="call_0", content="22°C"),
        Message(role="assistant", tool_calls=[second]),
        Message(role="tool", tool_call_id="call_0", content="Sunny"),
    )
    messages = request_to_ollama(request, stream=False)["messages"]
    assert [m.get("tool_name") for m in messages] == [
        None,
        "get_temperature",
        None,
        "get_conditions",
    ]
    assert messages[2]["tool_calls"][0]["function"]["arguments"] == {}


@pytest.mark.parametrize("arguments", ["[1, 2]", "{oops", '"text"'])
def test_arguments_that_are_not_a_json_object_are_refused(arguments: str) -> None:
    call = ToolCall(id="c", name="get_temperature", arguments=arguments)
    request = chat(Message(role="user", content="x"), Message(role="assistant", tool_calls=[call]))
    with pytest.raises(InvalidRequest) as caught:
        request_to_ollama(request, stream=False)
    assert caught.value.param == "messages[1].tool_calls[0].arguments"


def test_images_are_bare_base64_and_only_data_urls() -> None:
    message = Message(
        role="user",
        content=[
            TextPart(text="what is in this image?"),
            ImagePart(url=f"data:image/png;base64,{PIXEL_B64}"),
        ],
    )
    sent = request_to_ollama(chat(message), stream=True)["messages"][0]
    assert sent == {"role": "user", "content": "what is in this image?", "images": [PIXEL_B64]}
    for url in ["https://ollama.com/public/ollama.png", "data:text/plain,hello"]:
        remote = Message(role="user", content=[TextPart(text="x"), ImagePart(url=url)])
        with pytest.raises(InvalidRequest) as caught:
            request_to_ollama(chat(remote), stream=False)
        assert caught.value.param == "messages[0].content[1]"


def test_options_format_and_extra() -> None:
    schema = {
        "type": "object",
        "properties": {"age": {"type": "integer"}, "available": {"type": "boolean"}},
        "required": ["age", "available"],
    }
    request = chat(
        Message(role="developer", content="Be terse."),
        Message(role="user", content="Ollama is 22 years old and busy saving the world."),
        temperature=0,
        top_p=0.9,
        seed=101,
        stop=["\n"],
        max_tokens=64,
        presence_penalty=0.5,
        frequency_penalty=0.25,
        response_format=ResponseFormat(
            type="json_schema", json_schema=JsonSchemaFormat(name="p", schema=schema)
        ),
        extra={"think": "low", "options": {"num_ctx": 8192}, "stream_options": {"x": 1}},
    )
    body = request_to_ollama(
        request, stream=True, options={"num_ctx": 4096, "top_k": 20}, keep_alive="10m"
    )
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert body["format"] == schema
    assert body["think"] == "low" and body["keep_alive"] == "10m"
    assert "stream_options" not in body
    assert body["options"] == {
        "num_ctx": 8192,
        "top_k": 20,
        "temperature": 0,
        "top_p": 0.9,
        "seed": 101,
        "stop": ["\n"],
        "num_predict": 64,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.25,
    }
    json_mode = chat(
        Message(role="user", content="x"), response_format=ResponseFormat(type="json_object")
    )
    assert request_to_ollama(json_mode, stream=False)["format"] == "json"
    plain = request_to_ollama(chat(Message(role="user", content="x")), stream=False)
    assert "format" not in plain and "options" not in plain and "keep_alive" not in plain


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", ["get_temperature", "get_conditions"]),
        ("required", ["get_temperature", "get_conditions"]),
        ("none", None),
        (NamedToolChoice(name="get_conditions"), ["get_conditions"]),
    ],
    ids=["auto", "required", "none", "named"],
)
def test_tool_choice_is_approximated_by_the_tools_sent(
    choice: Any, expected: list[str] | None
) -> None:
    request = chat(
        Message(role="user", content="x"), tools=[TEMPERATURE, CONDITIONS], tool_choice=choice
    )
    body = request_to_ollama(request, stream=False)
    assert "tool_choice" not in body
    sent = [tool["function"]["name"] for tool in body["tools"]] if "tools" in body else None
    assert sent == expected


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tool_choice": NamedToolChoice(name="nope"), "tools": [TEMPERATURE]}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"n": 3}, "n"),
    ],
)
def test_what_ollama_cannot_express_is_refused(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_ollama(chat(Message(role="user", content="x"), **fields), stream=False)
    assert caught.value.param == param


# -- replies ------------------------------------------------------------------------------------

TOOL_REPLY = {  # docs/api.md, "Chat request (with tools)"
    "model": "llama3.2",
    "created_at": "2024-07-22T20:33:28.123648Z",
    "message": {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "function": {
                    "name": "get_current_weather",
                    "arguments": {"format": "celsius", "location": "Paris, FR"},
                }
            }
        ],
    },
    "done_reason": "stop",
    "done": True,
    "total_duration": 885095291,
    "load_duration": 3753500,
    "prompt_eval_count": 122,
    "prompt_eval_duration": 328493000,
    "eval_count": 33,
    "eval_duration": 552222000,
}


def test_a_tool_call_reply() -> None:
    response = response_from_ollama(
        TOOL_REPLY, model="llama3.2", response_id="chatcmpl-1", created=1, provider="ol"
    )
    assert (response.id, response.model, response.created) == ("chatcmpl-1", "llama3.2", 1721680408)
    call = response.message.tool_calls[0]  # type: ignore[index]
    # no id from an Ollama older than 0.12.10: a stable one; arguments in the documented encoding
    assert (call.id, call.name) == ("call_0", "get_current_weather")
    assert call.arguments == '{"format": "celsius", "location": "Paris, FR"}'
    assert call.arguments == json.dumps(
        TOOL_REPLY["message"]["tool_calls"][0]["function"]["arguments"]
    )  # type: ignore[index]
    assert response.message.content is None
    assert response.choices[0].finish_reason == "tool_calls"  # Ollama says "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (122, 33)
    assert response.usage.cached_input_tokens == 0


def test_a_text_reply_with_thinking_and_a_length_stop() -> None:
    reply = {
        "model": "qwen3",
        "created_at": "2023-08-04T08:52:19.385406455-07:00",
        "message": {"role": "assistant", "content": "Hello! How", "thinking": "Greet them."},
        "done": True,
        "done_reason": "length",
        "prompt_eval_count": 26,
        "eval_count": 298,
    }
    response = response_from_ollama(reply, model="qwen3", response_id="r", created=1, provider="ol")
    assert response.text == "Hello! How" and response.message.reasoning == "Greet them."
    assert response.choices[0].finish_reason == "length"
    assert response.created == 1691164339


def test_encode_arguments_is_stable_and_keeps_unicode() -> None:
    value = {"city": "São Paulo", "days": 3, "units": ["c", "f"], "nested": {"x": 1.5}}
    assert encode_arguments(value) == (
        '{"city": "São Paulo", "days": 3, "units": ["c", "f"], "nested": {"x": 1.5}}'
    )
    assert encode_arguments(None) == "{}"
    assert encode_arguments('{"raw":true}') == '{"raw":true}'


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"error": "model 'llama9' not found"}, ProviderUnavailable),
        (
            {"error": "the input length exceeds the context length", "status": 400},
            ContextLengthExceeded,
        ),
        ({**TOOL_REPLY, "done": False}, UpstreamProtocolError),
        (
            {"model": "x", "message": {"tool_calls": [{"function": {}}]}, "done": True},
            UpstreamProtocolError,
        ),
        ("text", UpstreamProtocolError),
    ],
    ids=["error-body", "error-with-status", "not-done", "call-without-name", "not-an-object"],
)
def test_bad_replies(body: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        response_from_ollama(body, model="m", response_id="r", created=1, provider="ol")


# -- streams ------------------------------------------------------------------------------------


def replay(lines: list[dict[str, Any]]) -> list[ChatChunk]:
    translator = OllamaStreamTranslator(
        model="llama3.2", stream_id="chatcmpl-s", created=1, provider="ol"
    )
    chunks = [chunk for line in lines for chunk in translator.feed(line)]
    return chunks + translator.finish()


def test_a_streamed_answer_with_thinking() -> None:
    lines = [
        {
            "model": "qwen3",
            "created_at": "2025-10-26T17:15:24.097767Z",
            "message": {"role": "assistant", "content": "", "thinking": "Let me"},
            "done": False,
        },
        {
            "model": "qwen3",
            "created_at": "2025-10-26T17:15:24.1Z",
            "message": {"role": "assistant", "content": "", "thinking": " think."},
            "done": False,
        },
        {
            "model": "qwen3",
            "created_at": "2025-10-26T17:15:24.2Z",
            "message": {"role": "assistant", "content": "The"},
            "done": False,
        },
        {
            "model": "qwen3",
            "created_at": "2025-10-26T17:15:24.3Z",
            "message": {"role": "assistant", "content": " sky"},
            "done": False,
        },
        {
            "model": "qwen3",
            "created_at": "2025-10-26T17:15:24.4Z",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 26,
            "eval_count": 282,
        },
    ]
    chunks = replay(lines)
    assert {c.id for c in chunks} == {"chatcmpl-s"} and {c.model for c in chunks} == {"qwen3"}
    assert {c.created for c in chunks} == {1761498924}
    assert chunks[0].role == "assistant"
    assert "".join(c.reasoning or "" for c in chunks) == "Let me think."
    assert "".join(c.text or "" for c in chunks) == "The sky"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 282


def test_streamed_tool_calls_arrive_whole_and_get_running_indexes() -> None:
    """docs/api.md, "Chat request (Streaming with tools)", with two calls on two lines."""
    tokyo = {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}}
    paris = {
        "id": "call_x1y2z3w4",
        "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}},
    }
    lines = [
        {
            "model": "llama3.2",
            "created_at": "2025-07-07T20:22:19.184789Z",
            "message": {"role": "assistant", "content": "", "tool_calls": [tokyo]},
            "done": False,
        },
        {
            "model": "llama3.2",
            "created_at": "2025-07-07T20:22:19.19Z",
            "message": {"role": "assistant", "content": "", "tool_calls": [paris]},
            "done": False,
        },
        {
            "model": "llama3.2",
            "created_at": "2025-07-07T20:22:19.19314Z",
            "message": {"role": "assistant", "content": ""},
            "done_reason": "stop",
            "done": True,
            "prompt_eval_count": 169,
            "eval_count": 15,
        },
    ]
    chunks = replay(lines)
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert [(d.index, d.id, d.name, d.arguments) for d in deltas] == [
        (0, "call_0", "get_weather", '{"city": "Tokyo"}'),
        (1, "call_x1y2z3w4", "get_weather", '{"city": "Paris"}'),
    ]
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]


def test_an_error_line_mid_stream_raises_the_mapped_error() -> None:
    translator = OllamaStreamTranslator(model="m", stream_id="s", created=1, provider="ol")
    translator.feed(
        {"model": "m", "message": {"role": "assistant", "content": "Yes"}, "done": False}
    )
    with pytest.raises(ProviderUnavailable, match="while running the model") as caught:
        translator.feed({"error": "an error was encountered while running the model"})
    assert caught.value.provider == "ol"


def test_a_stream_without_its_done_line_is_unavailable() -> None:
    translator = OllamaStreamTranslator(model="m", stream_id="s", created=1, provider="ol")
    translator.feed(
        {"model": "m", "message": {"role": "assistant", "content": "Yes"}, "done": False}
    )
    with pytest.raises(ProviderUnavailable):
        translator.finish()


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (400, "registry.ollama.ai/library/gemma:2b does not support tools", InvalidRequest),
        (400, "the input length exceeds the context length", ContextLengthExceeded),
        (401, "unauthorized", UpstreamAuthenticationError),
        (403, "remote inference is unavailable", UpstreamAuthenticationError),
        (404, "model 'llama9' not found", ModelNotFound),
        (429, "too many requests", RateLimited),
        (500, "the model failed to generate a response", ProviderUnavailable),
        (502, "cloud model cannot be reached", ProviderUnavailable),
        (529, "overloaded", ProviderUnavailable),
    ],
)
def test_error_statuses(status: int, message: str, expected: type[Exception]) -> None:
    error = map_error(status, {}, json.dumps({"error": message}).encode(), "ol")
    assert type(error) is expected
    assert (error.message, error.provider, error.upstream_status) == (message, "ol", status)


def test_error_lines_and_bodies_that_are_not_json() -> None:
    assert isinstance(map_error_line({"error": "boom", "status": 404}, "ol"), ModelNotFound)
    assert isinstance(map_error_line({"error": "boom", "status": True}, "ol"), ProviderUnavailable)
    limited = map_error(429, {"Retry-After": "2"}, b"", "ol")
    assert limited.retry_after == 2.0 and limited.message == "upstream answered HTTP 429"
    assert map_error(404, {}, b"404 page not found", "ol").message == "404 page not found"


# -- embeddings, tags, version ------------------------------------------------------------------


def test_embed_tags_and_version() -> None:
    request = EmbeddingRequest(
        model="all-minilm", input=["Why is the sky blue?", "Why is grass green?"], dimensions=2
    )
    assert embed_request_to_ollama(request, keep_alive="5m") == {
        "model": "all-minilm",
        "input": ["Why is the sky blue?", "Why is grass green?"],
        "dimensions": 2,
        "keep_alive": "5m",
    }
    reply = {
        "model": "all-minilm",
        "embeddings": [[0.010071029, -0.0017594862], [-0.0098027075, 0.06042469]],
        "total_duration": 14143917,
        "load_duration": 1019500,
        "prompt_eval_count": 8,
    }
    response = embed_response_from_ollama(reply, model="all-minilm", expected=2, provider="ol")
    assert response.data == reply["embeddings"] and response.usage.input_tokens == 8
    with pytest.raises(UpstreamProtocolError):
        embed_response_from_ollama(reply, model="all-minilm", expected=1, provider="ol")
    tags = {
        "models": [
            {"name": "deepseek-r1:latest", "model": "deepseek-r1:latest", "size": 4683075271}
        ]
    }
    assert models_from_ollama(tags, "ol") == ["deepseek-r1:latest"]
    assert version_from_ollama({"version": "0.5.1"}, "ol") == "0.5.1"
    with pytest.raises(UpstreamProtocolError):
        models_from_ollama({"data": []}, "ol")
