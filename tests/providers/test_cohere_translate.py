"""Cohere v2 translation, pure: canonical requests -> Cohere JSON, and Cohere's documented
replies, stream events and errors -> canonical objects. Payloads follow the examples of
https://docs.cohere.com/reference/chat, .../reference/chat-stream, .../v2/docs/tool-use-streaming,
.../reference/embed and .../reference/errors."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    ProviderUnavailable,
    RateLimited,
    Timeout,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.providers.cohere.embed import (
    embed_batches,
    embed_request_to_cohere,
    embed_response_from_cohere,
    models_from_cohere,
)
from switchyard.providers.cohere.errors import map_error
from switchyard.providers.cohere.stream import CohereStreamTranslator
from switchyard.providers.cohere.translate import request_to_cohere, response_from_cohere
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

WEATHER = Tool(
    name="get_weather",
    description="gets the weather of a given location",
    parameters={
        "type": "object",
        "properties": {"location": {"type": "string", "description": "the city"}},
        "required": ["location"],
    },
)
SEARCH = Tool(name="search_docs", parameters={"type": "object", "properties": {}})


def chat(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="command-a-03-2025", messages=list(messages), **fields)


# -- requests -----------------------------------------------------------------------------------


def test_a_conversation_with_tools_in_cohere_shape() -> None:
    request = chat(
        Message(role="developer", content="You are a weather bot."),
        Message(role="user", content="What's the weather in Toronto?"),
        Message(
            role="assistant",
            reasoning="I will search for the weather in Toronto.",
            tool_calls=[
                ToolCall(
                    id="get_weather_1byjy32y4hvq",
                    name="get_weather",
                    arguments='{"location":"Toronto"}',
                )
            ],
        ),
        Message(
            role="tool",
            tool_call_id="get_weather_1byjy32y4hvq",
            content='[{"temperature": {"toronto": "5°C"}}]',
        ),
        tools=[WEATHER],
    )
    body = request_to_cohere(request, stream=False)
    assert body == {
        "model": "command-a-03-2025",
        "stream": False,
        "messages": [
            {"role": "system", "content": "You are a weather bot."},
            {"role": "user", "content": "What's the weather in Toronto?"},
            {
                "role": "assistant",
                "tool_plan": "I will search for the weather in Toronto.",
                "tool_calls": [
                    {
                        "id": "get_weather_1byjy32y4hvq",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Toronto"}'},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "get_weather_1byjy32y4hvq",
                "content": '[{"temperature": {"toronto": "5°C"}}]',
            },
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER.parameters,
                    "description": "gets the weather of a given location",
                },
            }
        ],
    }


def test_sampling_parameters_take_cohere_names() -> None:
    body = request_to_cohere(
        chat(
            Message(role="user", content="hi"),
            temperature=0.2,
            top_p=0.9,
            max_tokens=100,
            stop=["\n\n"],
            seed=42,
            presence_penalty=0.1,
            frequency_penalty=0.3,
            user="u-1",
            logprobs=True,
            parallel_tool_calls=False,
            extra={"k": 10, "safety_mode": "STRICT", "stream_options": {"x": 1}},
        ),
        stream=True,
    )
    assert body["stream"] is True
    assert {key: body[key] for key in body if key not in ("model", "messages", "stream")} == {
        "temperature": 0.2,
        "p": 0.9,
        "max_tokens": 100,
        "stop_sequences": ["\n\n"],
        "seed": 42,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.3,
        "k": 10,
        "safety_mode": "STRICT",
    }


def test_images_are_image_url_parts_in_user_messages() -> None:
    pixel = "data:image/png;base64,iVBORw0KGgo="
    message = Message(
        role="user",
        content=[
            TextPart(text="Describe both."),
            ImagePart(url=pixel, detail="low"),
            ImagePart(url="https://cohere.com/logo.png"),
        ],
    )
    assert request_to_cohere(chat(message), stream=False)["messages"][0]["content"] == [
        {"type": "text", "text": "Describe both."},
        {"type": "image_url", "image_url": {"url": pixel, "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://cohere.com/logo.png"}},
    ]


def test_images_outside_user_messages_are_refused() -> None:
    message = Message(role="system", content=[ImagePart(url="https://x.test/a.png")])
    with pytest.raises(InvalidRequest) as caught:
        request_to_cohere(chat(message), stream=False)
    assert caught.value.param == "messages[0].content"


@pytest.mark.parametrize(
    ("choice", "tools", "expected"),
    [
        ("auto", ["get_weather", "search_docs"], None),
        ("none", ["get_weather", "search_docs"], "NONE"),
        ("required", ["get_weather", "search_docs"], "REQUIRED"),
        (NamedToolChoice(name="search_docs"), ["search_docs"], "REQUIRED"),
    ],
    ids=["auto", "none", "required", "named"],
)
def test_tool_choice(choice: Any, tools: list[str], expected: str | None) -> None:
    body = request_to_cohere(
        chat(Message(role="user", content="x"), tools=[WEATHER, SEARCH], tool_choice=choice),
        stream=False,
    )
    assert [tool["function"]["name"] for tool in body["tools"]] == tools
    assert body.get("tool_choice") == expected


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tool_choice": NamedToolChoice(name="nope"), "tools": [WEATHER]}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"n": 2}, "n"),
    ],
)
def test_what_cohere_cannot_express_is_refused(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_cohere(chat(Message(role="user", content="x"), **fields), stream=False)
    assert caught.value.param == param


def test_strict_tools_and_json_formats() -> None:
    strict = WEATHER.model_copy(update={"strict": True})
    body = request_to_cohere(chat(Message(role="user", content="x"), tools=[strict]), stream=False)
    assert body["strict_tools"] is True
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    as_schema = ResponseFormat(
        type="json_schema", json_schema=JsonSchemaFormat(name="person", schema=schema)
    )
    for fmt, expected in [
        (ResponseFormat(type="json_object"), {"type": "json_object"}),
        (as_schema, {"type": "json_object", "json_schema": schema}),
    ]:
        sent = request_to_cohere(
            chat(Message(role="user", content="JSON please"), response_format=fmt), stream=False
        )
        assert sent["response_format"] == expected
    plain = ResponseFormat(type="text")
    body = request_to_cohere(
        chat(Message(role="user", content="x"), response_format=plain), stream=False
    )
    assert "response_format" not in body


def test_a_tool_message_without_its_call_id_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_cohere(chat(Message(role="tool", content="18")), stream=False)
    assert caught.value.param == "messages[0].tool_call_id"


# -- replies ------------------------------------------------------------------------------------

TEXT_REPLY = {
    "id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
    "finish_reason": "COMPLETE",
    "message": {
        "role": "assistant",
        "content": [{"type": "text", "text": "LLMs stand for Large Language Models."}],
    },
    "usage": {
        "billed_units": {"input_tokens": 5, "output_tokens": 418},
        "tokens": {"input_tokens": 71, "output_tokens": 418},
        "cached_tokens": 64,
    },
}
TOOL_REPLY = {
    "id": "9a7e3a91-2e4f-4d2d-9c1c-4a0f2b7f3c11",
    "finish_reason": "TOOL_CALL",
    "message": {
        "role": "assistant",
        "tool_plan": "I will search for the weather in Toronto.",
        "tool_calls": [
            {
                "id": "get_weather_1byjy32y4hvq",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location":"Toronto"}'},
            }
        ],
    },
    "usage": {
        "billed_units": {"input_tokens": 37, "output_tokens": 28},
        "tokens": {"input_tokens": 1206, "output_tokens": 66},
    },
}


def test_a_text_reply() -> None:
    response = response_from_cohere(TEXT_REPLY, model="command-a", created=7, provider="co")
    assert (response.id, response.model, response.created) == (TEXT_REPLY["id"], "command-a", 7)
    assert response.text == "LLMs stand for Large Language Models."
    assert response.choices[0].finish_reason == "stop"
    usage = response.usage
    # tokens, not billed units: what the model processed; cached tokens are part of the input
    assert (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens) == (71, 418, 64)


def test_a_tool_call_reply_keeps_the_arguments_text_and_the_plan() -> None:
    response = response_from_cohere(TOOL_REPLY, model="command-a", created=1, provider="co")
    message = response.message
    assert message.content is None
    assert message.reasoning == "I will search for the weather in Toronto."
    assert message.tool_calls == [
        ToolCall(
            id="get_weather_1byjy32y4hvq", name="get_weather", arguments='{"location":"Toronto"}'
        )
    ]
    assert response.choices[0].finish_reason == "tool_calls"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1206, 66)


def test_thinking_content_is_reasoning_and_billed_units_are_the_fallback() -> None:
    reply = {
        "id": "r1",
        "finish_reason": "MAX_TOKENS",
        "message": {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "The user wants a haiku."},
                {"type": "text", "text": "Autumn moonlight"},
            ],
        },
        "usage": {"billed_units": {"input_tokens": 9, "output_tokens": 20}},
    }
    response = response_from_cohere(reply, model="command-a-reasoning", created=1, provider="co")
    assert response.text == "Autumn moonlight"
    assert response.message.reasoning == "The user wants a haiku."
    assert response.choices[0].finish_reason == "length"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (9, 20)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("COMPLETE", "stop"), ("STOP_SEQUENCE", "stop"), ("MAX_TOKENS", "length"), ("NEW", "stop")],
)
def test_finish_reasons(reason: str, expected: str) -> None:
    reply = {**TEXT_REPLY, "finish_reason": reason}
    response = response_from_cohere(reply, model="m", created=1, provider="co")
    assert response.choices[0].finish_reason == expected


@pytest.mark.parametrize(
    ("reason", "error"), [("ERROR", ProviderUnavailable), ("TIMEOUT", Timeout)]
)
def test_a_failed_generation_raises(reason: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        response_from_cohere(
            {**TEXT_REPLY, "finish_reason": reason}, model="m", created=1, provider="co"
        )


@pytest.mark.parametrize(
    "body",
    [
        {"id": "x", "finish_reason": "COMPLETE"},
        {**TOOL_REPLY, "message": {"tool_calls": [{"id": "c", "type": "function"}]}},
        [],
    ],
    ids=["no-message", "call-without-function", "not-an-object"],
)
def test_malformed_replies_are_protocol_errors(body: Any) -> None:
    with pytest.raises(UpstreamProtocolError):
        response_from_cohere(body, model="m", created=1, provider="co")


# -- streams ------------------------------------------------------------------------------------


def replay(events: list[dict[str, Any]]) -> tuple[list[ChatChunk], CohereStreamTranslator]:
    translator = CohereStreamTranslator(model="command-a", created=5, provider="co")
    chunks = [chunk for event in events for chunk in translator.feed_payload(event)]
    return chunks + translator.finish(), translator


# The tool-use streaming guide's example: a plan, then two calls whose arguments arrive in pieces.
TOOL_STREAM: list[dict[str, Any]] = [
    {
        "type": "message-start",
        "id": "fba98ad3-e5a1-413c-a8de-84fbf9baabf7",
        "delta": {
            "message": {
                "role": "assistant",
                "content": [],
                "tool_plan": "",
                "tool_calls": [],
                "citations": [],
            }
        },
    },
    {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I"}}},
    {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": " will"}}},
    *[
        event
        for index, (call_id, pieces) in enumerate(
            [
                (
                    "get_weather_p0dage9q1nv4",
                    ['{\n    "', "location", '":', ' "', "Madrid", '"\n}'],
                ),
                ("get_weather_6p0fa9qwgnab", ['{\n    "location": "Bras', "ilia", '"\n}']),
            ]
        )
        for event in [
            {
                "type": "tool-call-start",
                "index": index,
                "delta": {
                    "message": {
                        "tool_calls": {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    }
                },
            },
            *[
                {
                    "type": "tool-call-delta",
                    "index": index,
                    "delta": {"message": {"tool_calls": {"function": {"arguments": piece}}}},
                }
                for piece in pieces
            ],
            {"type": "tool-call-end", "index": index},
        ]
    ],
    {
        "type": "message-end",
        "delta": {
            "finish_reason": "TOOL_CALL",
            "usage": {
                "billed_units": {"input_tokens": 37, "output_tokens": 28},
                "tokens": {"input_tokens": 913, "output_tokens": 83},
            },
        },
    },
]


def test_a_streamed_plan_and_two_calls() -> None:
    chunks, translator = replay(TOOL_STREAM)
    assert {chunk.id for chunk in chunks} == {"fba98ad3-e5a1-413c-a8de-84fbf9baabf7"}
    assert chunks[0].role == "assistant"
    assert "".join(c.reasoning or "" for c in chunks) == "I will"
    deltas = [d for c in chunks for d in c.tool_calls or []]
    by_index: dict[int, str] = {}
    for delta in deltas:
        by_index[delta.index] = by_index.get(delta.index, "") + (delta.arguments or "")
    assert by_index == {0: '{\n    "location": "Madrid"\n}', 1: '{\n    "location": "Brasilia"\n}'}
    assert [(d.index, d.id) for d in deltas if d.id] == [
        (0, "get_weather_p0dage9q1nv4"),
        (1, "get_weather_6p0fa9qwgnab"),
    ]
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]
    assert chunks[-1].usage is not None and chunks[-1].usage.input_tokens == 913
    assert translator.done


def test_a_streamed_text_with_thinking_and_ignored_events() -> None:
    events: list[dict[str, Any]] = [
        TOOL_STREAM[0],
        {
            "type": "content-start",
            "index": 0,
            "delta": {"message": {"content": {"type": "thinking", "thinking": "Hmm."}}},
        },
        {"type": "content-end", "index": 0},
        {
            "type": "content-start",
            "index": 1,
            "delta": {"message": {"content": {"type": "text", "text": ""}}},
        },
        {"type": "content-delta", "index": 1, "delta": {"message": {"content": {"text": "Hi"}}}},
        {"type": "citation-start", "index": 0, "delta": {"message": {"citations": {}}}},
        {"type": "citation-end", "index": 0},
        {"type": "debug", "prompt": "<BOS_TOKEN>..."},
        {"type": "some-future-event", "delta": {"message": {"content": []}}},
        {"type": "content-delta", "index": 1, "delta": {"message": {"content": {"text": "!"}}}},
        {"type": "content-end", "index": 1},
        {
            "type": "message-end",
            "delta": {"finish_reason": "STOP_SEQUENCE", "usage": {"cached_tokens": 3}},
        },
    ]
    chunks, _ = replay(events)
    assert "".join(c.text or "" for c in chunks) == "Hi!"
    assert "".join(c.reasoning or "" for c in chunks) == "Hmm."
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]


def test_a_stream_without_message_end_is_unavailable() -> None:
    translator = CohereStreamTranslator(model="m", created=1, provider="co")
    translator.feed_payload(TOOL_STREAM[0])
    with pytest.raises(ProviderUnavailable):
        translator.finish()


def test_message_end_with_an_error_raises_it() -> None:
    translator = CohereStreamTranslator(model="m", created=1, provider="co")
    end = {"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal error"}}
    with pytest.raises(ProviderUnavailable, match="internal error") as caught:
        translator.feed_payload(end)
    assert caught.value.provider == "co"


def test_malformed_stream_events_are_protocol_errors() -> None:
    translator = CohereStreamTranslator(model="m", created=1, provider="co")
    with pytest.raises(UpstreamProtocolError):
        translator.feed_payload(
            {"type": "content-delta", "delta": {"message": {"content": "text"}}}
        )
    with pytest.raises(UpstreamProtocolError):
        translator.feed_payload(
            {
                "type": "tool-call-delta",
                "index": 3,
                "delta": {"message": {"tool_calls": {"function": {"arguments": "{"}}}},
            }
        )
    with pytest.raises(UpstreamProtocolError):
        translator.feed_payload(["not", "an", "object"])


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (400, "invalid request: message must not be empty in a turn", InvalidRequest),
        (
            400,
            "too many tokens: total number of tokens in the prompt cannot exceed 4081 - "
            "received 4292. Try using a shorter prompt, or enabling prompt truncating.",
            ContextLengthExceeded,
        ),
        (
            400,
            "too many tokens: max tokens must be less than or equal to 4096, the maximum output "
            "for this model - received 8192.",
            InvalidRequest,
        ),
        (401, "invalid api token", UpstreamAuthenticationError),
        (402, "Please add or update your payment method", RateLimited),
        (
            404,
            "model 'command-z' not found, make sure the correct model ID was used",
            ModelNotFound,
        ),
        (422, "unprocessable", InvalidRequest),
        (498, "blocked api token", UpstreamAuthenticationError),
        (499, "request cancelled", ProviderUnavailable),
        (
            500,
            "internal server error, this has been reported to our developers",
            ProviderUnavailable,
        ),
        (503, "service unavailable", ProviderUnavailable),
        (529, "overloaded", ProviderUnavailable),
        (418, "teapot", InvalidRequest),
    ],
)
def test_error_statuses(status: int, message: str, expected: type[Exception]) -> None:
    error = map_error(status, {}, b'{"message": "%s"}' % message.encode(), "co")
    assert type(error) is expected
    assert (error.message, error.provider, error.upstream_status) == (message, "co", status)


def test_retry_after_and_bodies_that_are_not_json() -> None:
    limited = map_error(429, {"Retry-After": "7"}, b'{"message": "trial key"}', "co")
    assert isinstance(limited, RateLimited) and limited.retry_after == 7.0
    unpaid = map_error(402, {"retry-after": "60"}, b"{}", "co")
    assert unpaid.retry_after is None and unpaid.message == "upstream answered HTTP 402"
    html = map_error(502, {}, b"<html>Bad Gateway</html>", "co")
    assert isinstance(html, ProviderUnavailable) and "Bad Gateway" in html.message


# -- embeddings and models ----------------------------------------------------------------------


def test_embed_request_and_reply() -> None:
    request = EmbeddingRequest(model="embed-v4.0", input=["hello", "goodbye"], dimensions=256)
    assert embed_request_to_cohere(request, request.input, "search_query") == {
        "model": "embed-v4.0",
        "texts": ["hello", "goodbye"],
        "input_type": "search_query",
        "embedding_types": ["float"],
        "output_dimension": 256,
    }
    reply = {
        "id": "da6e531f-54c6-4a73-bf92-f60566d8d753",
        "embeddings": {"float": [[0.016296387, -0.008354187], [-0.04663086, -0.023239136]]},
        "texts": ["hello", "goodbye"],
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 2}},
        "response_type": "embeddings_by_type",
    }
    response = embed_response_from_cohere(reply, model="embed-v4.0", expected=2, provider="co")
    assert response.data == reply["embeddings"]["float"]  # type: ignore[index]
    assert response.usage.input_tokens == 2
    with pytest.raises(UpstreamProtocolError):
        embed_response_from_cohere(reply, model="embed-v4.0", expected=3, provider="co")
    with pytest.raises(UpstreamProtocolError):
        embed_response_from_cohere({"embeddings": {}}, model="e", expected=1, provider="co")


def test_embed_batches_respect_cohere_limit() -> None:
    texts = [str(i) for i in range(200)]
    batches = embed_batches(texts)
    assert [len(b) for b in batches] == [96, 96, 8]
    assert [t for b in batches for t in b] == texts


def test_model_list_pages() -> None:
    names, token = models_from_cohere(
        {"models": [{"name": "command-a-03-2025", "endpoints": ["chat"]}], "next_page_token": "p2"},
        "co",
    )
    assert (names, token) == (["command-a-03-2025"], "p2")
    assert models_from_cohere({"models": [], "next_page_token": ""}, "co") == ([], None)
    with pytest.raises(UpstreamProtocolError):
        models_from_cohere({"data": []}, "co")


def test_the_requests_task_is_cohere_input_type_else_the_providers() -> None:
    def input_type(task: Any) -> str:
        request = EmbeddingRequest(model="embed-v4.0", input=["q"], task=task)
        return str(embed_request_to_cohere(request, request.input, "search_document")["input_type"])

    assert input_type("query") == "search_query"
    assert input_type("code_query") == "search_query"
    assert input_type("document") == "search_document"
    assert input_type("clustering") == "clustering"
    assert input_type("similarity") == "search_document"  # none of Cohere's: the provider's
    assert input_type(None) == "search_document"
