"""The ``gemini`` adapter's pure translation: canonical requests -> Gemini bodies, Gemini
replies and streamed chunks -> canonical objects. Payload shapes follow ai.google.dev/api
(generate-content, caching#Content, embeddings) and the function-calling guide."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.errors import (
    ContentFiltered,
    InvalidRequest,
    ProviderUnavailable,
    UpstreamProtocolError,
)
from switchyard.providers.gemini.reply import (
    embeddings_from_gemini,
    models_from_gemini,
    response_from_gemini,
)
from switchyard.providers.gemini.stream import StreamTranslator
from switchyard.providers.gemini.translate import (
    arguments_json,
    chat_body,
    embed_body,
    model_resource,
)
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    EmbeddingRequest,
    FormatFields,
    ImagePart,
    JsonSchemaFormat,
    Message,
    NamedToolChoice,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
)
from tests.fakes.gemini_upstream import candidate, function_call, response, usage_metadata

PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WEATHER = Tool(
    name="get_weather",
    description="Current weather",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)


def ask(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="gemini-2.5-flash", messages=list(messages), **fields)


def user(text: str) -> Message:
    return Message(role="user", content=text)


def read(payload: dict[str, Any]) -> Any:
    return response_from_gemini(
        payload, provider="gem", model="gemini-2.5-flash", created=7, fallback_id="gen-1"
    )


# -- requests ----------------------------------------------------------------------------------


def test_roles_system_instruction_and_generation_config() -> None:
    request = ask(
        Message(role="system", content="Be brief."),
        Message(role="developer", content="Answer in French."),
        user("Capital of France?"),
        Message(role="assistant", content="Paris."),
        user("And Italy?"),
        temperature=0.2,
        top_p=0.9,
        max_tokens=64,
        stop=["END"],
        seed=7,
        n=2,
    )
    body = chat_body(request)
    assert body["systemInstruction"] == {
        "parts": [{"text": "Be brief."}, {"text": "Answer in French."}]
    }
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Capital of France?"}]},
        {"role": "model", "parts": [{"text": "Paris."}]},
        {"role": "user", "parts": [{"text": "And Italy?"}]},
    ]
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "maxOutputTokens": 64,
        "stopSequences": ["END"],
        "seed": 7,
        "candidateCount": 2,
    }
    assert "tools" not in body and "toolConfig" not in body


def test_a_request_with_only_a_system_prompt_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        chat_body(ask(Message(role="system", content="Be brief.")))
    assert caught.value.param == "messages"


def test_data_url_images_become_inline_data() -> None:
    message = Message(
        role="user",
        content=[TextPart(text="What is this?"), ImagePart(url=f"data:image/png;base64,{PIXEL}")],
    )
    parts = chat_body(ask(message))["contents"][0]["parts"]
    assert parts == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": PIXEL}},
    ]


def test_files_api_uris_become_file_data() -> None:
    uri = "https://generativelanguage.googleapis.com/v1beta/files/abc-123"
    parts = chat_body(ask(Message(role="user", content=[ImagePart(url=uri)])))["contents"][0]
    assert parts["parts"] == [{"fileData": {"fileUri": uri}}]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.png",
        "data:image/png,rawbytes",
        "data:image/png;base64,@@not-base64@@",
    ],
)
def test_images_gemini_cannot_take_are_refused_by_name(url: str) -> None:
    message = Message(role="user", content=[TextPart(text="look"), ImagePart(url=url)])
    with pytest.raises(InvalidRequest) as caught:
        chat_body(ask(user("hi"), message))
    assert caught.value.param == "messages[1].content[1]"


def test_tools_and_tool_choice() -> None:
    body = chat_body(ask(user("Weather?"), tools=[WEATHER], tool_choice="auto"))
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Current weather",
                    "parametersJsonSchema": WEATHER.parameters,
                }
            ]
        }
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    modes = {
        "none": {"mode": "NONE"},
        "required": {"mode": "ANY"},
    }
    for choice, expected in modes.items():
        sent = chat_body(ask(user("x"), tools=[WEATHER], tool_choice=choice))
        assert sent["toolConfig"]["functionCallingConfig"] == expected
    named = chat_body(
        ask(user("x"), tools=[WEATHER], tool_choice=NamedToolChoice(name="get_weather"))
    )
    assert named["toolConfig"]["functionCallingConfig"] == {
        "mode": "ANY",
        "allowedFunctionNames": ["get_weather"],
    }
    assert "toolConfig" not in chat_body(ask(user("x"), tools=[WEATHER]))


def test_json_mode_and_json_schema() -> None:
    json_mode = chat_body(ask(user("x"), response_format=ResponseFormat(type="json_object")))
    assert json_mode["generationConfig"] == {"responseMimeType": "application/json"}
    schema = {"type": "object", "properties": {"capital": {"type": "string"}}}
    fmt = ResponseFormat(type="json_schema", json_schema=JsonSchemaFormat(name="c", schema_=schema))
    with_schema = chat_body(ask(user("x"), response_format=fmt))
    assert with_schema["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    assert "generationConfig" not in chat_body(ask(user("x"), response_format=ResponseFormat()))


def conversation() -> list[Message]:
    """Two tool rounds whose generated ids repeat (``call_0``), as Gemini without ids gives."""
    return [
        user("Weather in Paris and Rome?"),
        Message(
            role="assistant",
            tool_calls=[
                ToolCall(id="call_0", name="get_weather", arguments='{"city": "Paris"}'),
                ToolCall(id="call_1", name="get_time", arguments=""),
            ],
        ),
        Message(role="tool", tool_call_id="call_0", content='{"celsius": 18}'),
        Message(role="tool", tool_call_id="call_1", content="12:00"),
        Message(
            role="assistant",
            content="Checking Rome.",
            tool_calls=[
                ToolCall(id="call_0", name="get_forecast", arguments='{"city": "Rome"}'),
            ],
        ),
        Message(role="tool", tool_call_id="call_0", content="[1, 2]"),
        user("Thanks"),
    ]


def test_tool_rounds_replay_as_function_calls_and_named_responses() -> None:
    body = chat_body(ask(*conversation()), thought_signature="sig")
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                    "thoughtSignature": "sig",
                },
                {"functionCall": {"name": "get_time", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"celsius": 18}}},
                {"functionResponse": {"name": "get_time", "response": {"output": "12:00"}}},
            ],
        },
        {
            "role": "model",
            "parts": [
                {"text": "Checking Rome."},
                {
                    "functionCall": {"name": "get_forecast", "args": {"city": "Rome"}},
                    "thoughtSignature": "sig",
                },
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_forecast", "response": {"output": "[1, 2]"}}},
                {"text": "Thanks"},
            ],
        },
    ]
    calls = [
        part.get("functionCall") or part.get("functionResponse")
        for content in body["contents"]
        for part in content["parts"]
        if "text" not in part
    ]
    assert len(calls) == 6 and not any("id" in call for call in calls)  # ids stay home


def test_no_signature_when_none_is_configured() -> None:
    body = chat_body(ask(*conversation()), thought_signature=None)
    assert "thoughtSignature" not in json.dumps(body)


def test_calls_that_came_with_signatures_replay_their_own() -> None:
    calls = [
        ToolCall(id="a", name="f", arguments="{}", thought_signature="own-1"),
        ToolCall(id="b", name="g", arguments="{}"),
    ]
    turn = Message(role="assistant", tool_calls=calls)
    body = chat_body(ask(user("hi"), turn), thought_signature="configured")
    parts = body["contents"][1]["parts"]
    assert [p.get("thoughtSignature") for p in parts] == ["own-1", None]


def test_gemini_format_fields_merge_and_others_do_not() -> None:
    fields = {
        "generationConfig": {"topK": 7, "thinkingConfig": {"includeThoughts": True}},
        "tools": [{"googleSearch": {}}],
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    }
    gemini = FormatFields(format="gemini", fields=fields)
    body = chat_body(ask(user("x"), tools=[WEATHER], temperature=0.5, format_fields=gemini))
    assert body["generationConfig"] == {
        "temperature": 0.5,
        "topK": 7,
        "thinkingConfig": {"includeThoughts": True},
    }
    assert body["tools"][1] == {"googleSearch": {}}
    assert body["safetySettings"] == fields["safetySettings"]
    other = FormatFields(format="anthropic", fields={"top_k": 7})
    assert "top_k" not in json.dumps(chat_body(ask(user("x"), format_fields=other)))


def test_function_call_signatures_are_kept_plain_and_streamed() -> None:
    signed = {**function_call("get_time", {}, "fc-1"), "thoughtSignature": "c2ln"}
    reply = read(response([signed]))
    assert (reply.message.tool_calls or [])[0].thought_signature == "c2ln"
    translator = StreamTranslator(provider="gem", model="m", created=0, fallback_id="x")
    chunks = translator.feed_payload(response([signed]))
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert [d.thought_signature for d in deltas] == ["c2ln"]


def test_a_tool_result_without_its_call_is_refused_by_name() -> None:
    orphan = Message(role="tool", tool_call_id="call_9", content="x")
    with pytest.raises(InvalidRequest) as caught:
        chat_body(ask(user("hi"), orphan))
    assert caught.value.param == "messages[1].tool_call_id"


@pytest.mark.parametrize("arguments", ["{oops", "[1, 2]"])
def test_replayed_arguments_must_be_a_json_object(arguments: str) -> None:
    call = ToolCall(id="c", name="f", arguments=arguments)
    with pytest.raises(InvalidRequest) as caught:
        chat_body(ask(user("hi"), Message(role="assistant", tool_calls=[call])))
    assert caught.value.param == "messages[1].tool_calls[0].arguments"


def test_extra_merges_into_the_body() -> None:
    extra = {
        "generationConfig": {"thinkingConfig": {"includeThoughts": True}, "topK": 5},
        "tools": [{"googleSearch": {}}],
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    }
    body = chat_body(ask(user("x"), tools=[WEATHER], temperature=0.5, extra=extra))
    assert body["generationConfig"] == {
        "temperature": 0.5,
        "thinkingConfig": {"includeThoughts": True},
        "topK": 5,
    }
    assert body["tools"][1] == {"googleSearch": {}}
    assert body["safetySettings"] == extra["safetySettings"]
    with pytest.raises(InvalidRequest) as caught:
        chat_body(ask(user("x"), extra={"contents": []}))
    assert caught.value.param == "extra.contents"


def test_model_resource_names() -> None:
    assert model_resource("gemini-2.5-flash") == "models/gemini-2.5-flash"
    assert model_resource("models/gemini-2.5-flash") == "models/gemini-2.5-flash"
    assert model_resource("tunedModels/my-model") == "tunedModels/my-model"
    assert model_resource("odd/name") == "models/odd%2Fname"


def test_embedding_bodies() -> None:
    one = embed_body(EmbeddingRequest(model="gemini-embedding-001", input=["a"], dimensions=3))
    assert one == (
        "embedContent",
        {
            "model": "models/gemini-embedding-001",
            "content": {"parts": [{"text": "a"}]},
            "outputDimensionality": 3,
        },
    )
    method, body = embed_body(EmbeddingRequest(model="gemini-embedding-001", input=["a", "b"]))
    assert method == "batchEmbedContents"
    assert [r["content"]["parts"][0]["text"] for r in body["requests"]] == ["a", "b"]
    assert all(r["model"] == "models/gemini-embedding-001" for r in body["requests"])
    with pytest.raises(InvalidRequest):
        embed_body(EmbeddingRequest(model="m", input=[]))


# -- whole replies -----------------------------------------------------------------------------


def test_text_reasoning_and_usage() -> None:
    payload = response(
        [{"text": "Let me think.", "thought": True}, {"text": "Paris"}, {"text": "."}],
        usage=usage_metadata(1200, 250, cached=200, thoughts=50),
    )
    reply = read(payload)
    assert (reply.id, reply.model, reply.created) == ("resp-gem-1", "gemini-2.5-flash", 7)
    assert reply.text == "Paris."
    assert reply.message.reasoning == "Let me think."
    assert reply.choices[0].finish_reason == "stop"
    usage = reply.usage
    assert (usage.input_tokens, usage.cached_input_tokens) == (1200, 200)
    assert (usage.output_tokens, usage.reasoning_tokens) == (300, 50)
    assert usage.total_tokens == payload["usageMetadata"]["totalTokenCount"]


def test_function_calls_with_and_without_ids() -> None:
    payload = response(
        [
            function_call("get_weather", {"city": "Zürich", "unit": "celsius"}),
            function_call("get_time", {}, "fc-7"),
            function_call("get_weather", {"city": "Rome"}),
        ]
    )
    reply = read(payload)
    calls = reply.message.tool_calls or []
    assert [(c.id, c.name) for c in calls] == [
        ("call_0", "get_weather"),
        ("fc-7", "get_time"),
        ("call_2", "get_weather"),
    ]
    assert calls[0].arguments == '{"city": "Zürich", "unit": "celsius"}'
    assert json.loads(calls[0].arguments) == {"city": "Zürich", "unit": "celsius"}
    assert reply.message.content is None
    assert reply.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "stop"),
        ("SOMETHING_NEW", "stop"),
    ],
)
def test_finish_reasons(raw: str, expected: str) -> None:
    assert read(response([{"text": "partial"}], raw)).choices[0].finish_reason == expected


def test_a_reply_withheld_for_safety_raises_content_filtered() -> None:
    payload = {"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": []}]}
    with pytest.raises(ContentFiltered) as caught:
        read(payload)
    assert caught.value.provider == "gem" and "SAFETY" in caught.value.message


def test_a_blocked_prompt_raises_content_filtered() -> None:
    payload = {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": usage_metadata(9, 0),
    }
    with pytest.raises(ContentFiltered) as caught:
        read(payload)
    assert "PROHIBITED_CONTENT" in caught.value.message


def test_several_candidates_become_choices() -> None:
    payload = {
        "candidates": [
            candidate([{"text": "One"}], "STOP", index=0),
            candidate([{"text": "Two"}], "MAX_TOKENS", index=1),
        ]
    }
    reply = read(payload)
    assert [(c.index, c.message.text(), c.finish_reason) for c in reply.choices] == [
        (0, "One", "stop"),
        (1, "Two", "length"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"candidates": []},
        {"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]},
        {"candidates": "nope"},
    ],
)
def test_malformed_replies_are_upstream_protocol_errors(payload: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError):
        read(payload)


def test_embeddings_and_model_lists() -> None:
    batch = {"embeddings": [{"values": [0.5, 1.0]}, {"values": [0.0, -1.0]}]}
    got = embeddings_from_gemini(batch, batch=True, expected=2, provider="gem", model="m")
    assert got.data == [[0.5, 1.0], [0.0, -1.0]]
    one = embeddings_from_gemini(
        {"embedding": {"values": [0.25]}}, batch=False, expected=1, provider="gem", model="m"
    )
    assert one.data == [[0.25]]
    with pytest.raises(UpstreamProtocolError):
        embeddings_from_gemini(batch, batch=True, expected=3, provider="gem", model="m")
    page = {"models": [{"name": "models/gemini-2.5-pro"}], "nextPageToken": "p2"}
    assert models_from_gemini(page, "gem") == (["gemini-2.5-pro"], "p2")


# -- streams -----------------------------------------------------------------------------------


def translator() -> StreamTranslator:
    return StreamTranslator(
        provider="gem", model="gemini-2.5-flash", created=7, fallback_id="gen-1"
    )


def replay(events: list[dict[str, Any]]) -> list[ChatChunk]:
    stream = translator()
    chunks = [chunk for event in events for chunk in stream.feed_payload(event)]
    return chunks + stream.finish()


def test_a_text_stream_with_thoughts_and_usage() -> None:
    chunks = replay(
        [
            response([{"text": "Hmm.", "thought": True}], None, response_id="r-9"),
            response([{"text": "Par"}], None, response_id="r-9"),
            response(
                [{"text": "is."}], "STOP", usage_metadata(10, 2, thoughts=3), response_id="r-9"
            ),
        ]
    )
    assert {c.id for c in chunks} == {"r-9"}
    assert chunks[0].role == "assistant" and chunks[0].reasoning == "Hmm."
    assert "".join(c.text or "" for c in chunks) == "Paris."
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert usage is not None and (usage.output_tokens, usage.reasoning_tokens) == (5, 3)


def test_a_streamed_function_call_arrives_whole() -> None:
    args = {"city": "Paris, France", "unit": "celsius"}
    chunks = replay(
        [
            response([{"text": "Let me check."}], None),
            response(
                [function_call("get_weather", args), function_call("get_time", {}, "fc-2")], None
            ),
            response([], "STOP", usage_metadata(5, 5)),
        ]
    )
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert [(d.index, d.id, d.name) for d in deltas] == [
        (0, "call_0", "get_weather"),
        (1, "fc-2", "get_time"),
    ]
    assert deltas[0].arguments == arguments_json(args)
    assert json.loads(deltas[0].arguments or "") == args
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]


def test_a_stream_without_finish_reason_ended_early() -> None:
    stream = translator()
    stream.feed_payload(response([{"text": "Hel"}], None))
    with pytest.raises(ProviderUnavailable, match="ended early"):
        stream.finish()
    with pytest.raises(ProviderUnavailable):
        translator().finish()


def test_a_stream_blocked_before_any_text_raises_content_filtered() -> None:
    stream = translator()
    with pytest.raises(ContentFiltered):
        stream.feed_payload({"candidates": [{"finishReason": "SAFETY", "index": 0}]})
    with pytest.raises(ContentFiltered):
        translator().feed_payload({"promptFeedback": {"blockReason": "SAFETY"}})


def test_a_stream_stopped_for_safety_after_some_text_finishes_with_content_filter() -> None:
    chunks = replay(
        [response([{"text": "Once upon"}], None), {"candidates": [{"finishReason": "SAFETY"}]}]
    )
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["content_filter"]


def test_malformed_stream_chunks_are_upstream_protocol_errors() -> None:
    with pytest.raises(UpstreamProtocolError):
        translator().feed_payload({"candidates": [{"content": {"parts": "x"}}]})


def test_embedding_task_and_titles_per_input() -> None:
    request = EmbeddingRequest(
        model="gemini-embedding-001", input=["a", "b"], task="document", titles=["A", None]
    )
    _, body = embed_body(request)
    assert [(r["taskType"], r.get("title")) for r in body["requests"]] == [
        ("RETRIEVAL_DOCUMENT", "A"),
        ("RETRIEVAL_DOCUMENT", None),
    ]
    assert "taskType" not in embed_body(EmbeddingRequest(model="m", input=["a"]))[1]
    with pytest.raises(ValueError, match="one entry per input"):
        EmbeddingRequest(model="m", input=["a", "b"], titles=["A"])
