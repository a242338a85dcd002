"""The Gemini door's pure translation: Gemini request bodies (as gemini-cli, google-genai and
the REST reference's examples send them) -> canonical requests, canonical answers and streams
-> Gemini's ``GenerateContentResponse`` and its two stream framings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.doors.gemini.errors import error_to_gemini
from switchyard.doors.gemini.events import GenerateEvents
from switchyard.doors.gemini.reply import response_to_gemini, usage_to_gemini
from switchyard.doors.gemini.request import (
    count_request_from_gemini,
    embedding_request_from_gemini,
    json_schema,
    request_from_gemini,
)
from switchyard.errors import InvalidRequest, RateLimited
from switchyard.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ImagePart,
    Message,
    NamedToolChoice,
    Reasoning,
    TextPart,
    ToolCall,
    ToolCallDelta,
    Usage,
)

# A gemini-cli first turn (its @google/genai client's JSON, trimmed): the system instruction
# as a Content with role user, tools declared with parametersJsonSchema, thinking on.
GEMINI_CLI: dict[str, Any] = {
    "contents": [
        {"role": "user", "parts": [{"text": "This is the Gemini CLI. Today's date is ..."}]},
        {"role": "model", "parts": [{"text": "Got it. Thanks for the context!"}]},
        {"role": "user", "parts": [{"text": "Read notes.txt and tell me what it says."}]},
    ],
    "systemInstruction": {"role": "user", "parts": [{"text": "You are an interactive CLI agent."}]},
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "read_file",
                    "description": "Reads and returns the content of a specified file.",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {
                            "absolute_path": {"type": "string", "description": "The path."},
                            "offset": {"type": "number"},
                        },
                        "required": ["absolute_path"],
                    },
                }
            ]
        }
    ],
    "generationConfig": {
        "temperature": 0,
        "topP": 1,
        "thinkingConfig": {"includeThoughts": True, "thinkingBudget": -1},
    },
}

# The function-calling guide's multi-turn example: parallel calls without ids (older models),
# their results matched by name, then the model's answer, with Gemini 3's signature.
PARALLEL: dict[str, Any] = {
    "contents": [
        {"role": "user", "parts": [{"text": "Turn this place into a party!"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "power_disco_ball", "args": {"power": True}},
                    "thoughtSignature": "c2lnbmF0dXJlLTE=",
                },
                {"functionCall": {"name": "start_music", "args": {"energetic": True}}},
                {"functionCall": {"name": "dim_lights", "args": {"brightness": 0.5}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "start_music", "response": {"result": "ok"}}},
                {"functionResponse": {"name": "power_disco_ball", "response": {"output": "on"}}},
                {
                    "functionResponse": {
                        "name": "dim_lights",
                        "response": {"error": "no dimmer"},
                    }
                },
            ],
        },
    ],
}


def test_gemini_cli_first_turn() -> None:
    chat = request_from_gemini(GEMINI_CLI, "gem", stream=True)
    assert chat.model == "gem" and chat.stream
    assert [m.role for m in chat.messages] == ["system", "user", "assistant", "user"]
    assert chat.messages[0].content == "You are an interactive CLI agent."
    assert chat.messages[2].content == "Got it. Thanks for the context!"
    assert chat.tools is not None and chat.tools[0].name == "read_file"
    assert (
        chat.tools[0].parameters
        == GEMINI_CLI["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"]
    )
    assert (chat.temperature, chat.top_p) == (0, 1)
    assert chat.reasoning is None  # a budget of -1: the model decides
    assert chat.format_fields is not None and chat.format_fields.format == "gemini"
    assert chat.format_fields.fields == {
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": -1}}
    }


def test_parallel_calls_and_results_matched_by_name() -> None:
    chat = request_from_gemini(PARALLEL, "gem", stream=False)
    assistant = chat.messages[1]
    assert assistant.role == "assistant" and assistant.content is None
    calls = assistant.tool_calls or []
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_1_0", "power_disco_ball", {"power": True}),
        ("call_1_1", "start_music", {"energetic": True}),
        ("call_1_2", "dim_lights", {"brightness": 0.5}),
    ]
    assert [c.thought_signature for c in calls] == ["c2lnbmF0dXJlLTE=", None, None]
    results = chat.messages[2:]
    assert [(m.role, m.tool_call_id, m.content, m.is_error) for m in results] == [
        ("tool", "call_1_1", '{"result": "ok"}', None),
        ("tool", "call_1_0", "on", None),
        ("tool", "call_1_2", '{"error": "no dimmer"}', True),
    ]


def test_results_answer_their_calls_by_id() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Two reads"}]},
            {
                "role": "model",
                "parts": [
                    {"text": "Reading both.", "thought": True},
                    {"functionCall": {"id": "a1", "name": "read", "args": {"p": "x"}}},
                    {"functionCall": {"id": "b2", "name": "read", "args": {"p": "y"}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "b2", "name": "read", "response": {"output": "Y"}}},
                    {"functionResponse": {"id": "a1", "name": "read", "response": {"output": "X"}}},
                    {"text": "and now?"},
                ],
            },
        ]
    }
    chat = request_from_gemini(body, "gem", stream=False)
    assert chat.messages[1].reasoning == "Reading both."
    assert [(m.role, m.tool_call_id, m.text()) for m in chat.messages[2:]] == [
        ("tool", "b2", "Y"),
        ("tool", "a1", "X"),
        ("user", None, "and now?"),
    ]


def test_a_multimodal_function_response_keeps_its_images() -> None:
    body = {
        "contents": [
            {"parts": [{"text": "Look at shot.png"}]},
            {"role": "model", "parts": [{"functionCall": {"id": "r1", "name": "read_file"}}]},
            {
                "parts": [
                    {
                        "functionResponse": {
                            "id": "r1",
                            "name": "read_file",
                            "response": {"output": "Binary content provided (1 item(s))."},
                            "parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBO"}}],
                        }
                    }
                ]
            },
        ]
    }
    result = request_from_gemini(body, "gem", stream=False).messages[-1]
    assert result.role == "tool" and result.tool_call_id == "r1"
    assert result.content == [
        TextPart(text="Binary content provided (1 item(s))."),
        ImagePart(url="data:image/png;base64,iVBO"),
    ]


def test_media_parts() -> None:
    body = {
        "contents": [
            {
                "parts": [
                    {"text": "What is this?"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                    {"file_data": {"mime_type": "image/jpeg", "file_uri": "https://x.test/a.jpg"}},
                ]
            }
        ]
    }
    message = request_from_gemini(body, "gem", stream=False).messages[0]
    assert message.role == "user"
    assert message.content == [
        TextPart(text="What is this?"),
        ImagePart(url="data:image/png;base64,iVBORw0KGgo="),
        ImagePart(url="https://x.test/a.jpg"),
    ]


def test_openapi_parameters_become_json_schema() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "location": {"type": "STRING", "description": "The city"},
            "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"], "nullable": True},
            "days": {"type": "ARRAY", "items": {"type": "INTEGER"}},
        },
        "required": ["location"],
        "propertyOrdering": ["location", "unit", "days"],
    }
    assert json_schema(schema) == {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city"},
            "unit": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["location"],
    }
    body = {
        "contents": [{"parts": [{"text": "hi"}]}],
        "tools": [{"functionDeclarations": [{"name": "weather", "parameters": schema}]}],
    }
    tools = request_from_gemini(body, "gem", stream=False).tools or []
    assert tools[0].parameters == json_schema(schema)


def test_generation_config_and_tool_config() -> None:
    body = {
        "contents": [{"parts": [{"text": "List three colours"}]}],
        "tools": [
            {"functionDeclarations": [{"name": "pick"}]},
            {"googleSearch": {}},
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["pick"]}},
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
        "generation_config": {  # snake case, as Google's JSON also accepts
            "max_output_tokens": 100,
            "stop_sequences": ["\n\n"],
            "candidate_count": 1,
            "seed": 7,
            "top_k": 40,
            "response_mime_type": "application/json",
            "response_schema": {"type": "ARRAY", "items": {"type": "STRING"}},
            "thinking_config": {"thinking_level": "LOW", "thinking_budget": 0},
        },
    }
    chat = request_from_gemini(body, "gem", stream=False)
    assert (chat.max_tokens, chat.stop, chat.n, chat.seed) == (100, ["\n\n"], 1, 7)
    assert chat.tool_choice == NamedToolChoice(name="pick")
    assert chat.response_format is not None and chat.response_format.json_schema is not None
    assert chat.response_format.json_schema.schema_ == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert chat.reasoning == Reasoning(effort="low", budget_tokens=0)
    assert chat.format_fields is not None
    assert chat.format_fields.fields == {
        "safetySettings": body["safetySettings"],
        "tools": [{"googleSearch": {}}],
        "generationConfig": {
            "topK": 40,
            "thinkingConfig": {"thinkingLevel": "LOW", "thinkingBudget": 0},
        },
    }


def test_json_mode_without_a_schema_and_modes() -> None:
    body: dict[str, Any] = {
        "contents": [{"parts": [{"text": "json please"}]}],
        "generationConfig": {"responseMimeType": "application/json"},
        "toolConfig": {"functionCallingConfig": {"mode": "NONE"}},
    }
    chat = request_from_gemini(body, "gem", stream=False)
    assert chat.response_format is not None and chat.response_format.type == "json_object"
    assert chat.tool_choice == "none"
    assert chat.format_fields is None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"contents": None}, "contents"),
        ({"contents": []}, "contents"),
        ({"contents": [{"role": "robot", "parts": []}]}, "contents[0].role"),
        ({"contents": [{"parts": "hi"}]}, "contents[0].parts"),
        ({"contents": [{"parts": [{"text": 3}]}]}, "contents[0].parts[0].text"),
        ({"contents": [{"parts": [{"executableCode": {}}]}]}, "contents[0].parts[0]"),
        (
            {"contents": [{"parts": [{"fileData": {"fileUri": "gs://bucket/a.png"}}]}]},
            "contents[0].parts[0].fileData.fileUri",
        ),
        (
            {"contents": [{"parts": [{"inlineData": {"data": "AA=="}}]}]},
            "contents[0].parts[0].inlineData.mimeType",
        ),
        (
            {
                "contents": [
                    {"parts": [{"functionResponse": {"name": "ghost", "response": {}}}]},
                ]
            },
            "contents[0].parts[0].functionResponse.name",
        ),
        (
            {"contents": [{"role": "model", "parts": [{"functionCall": {"args": {}}}]}]},
            "contents[0].parts[0].functionCall.name",
        ),
        ({"systemInstruction": {"parts": [{"inlineData": {}}]}}, "systemInstruction.parts[0].text"),
        (
            {"tools": [{"functionDeclarations": [{"description": "x"}]}]},
            "tools[0].functionDeclarations[0].name",
        ),
        (
            {"toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
            "toolConfig.functionCallingConfig.mode",
        ),
        ({"generationConfig": {"temperature": "hot"}}, "generationConfig.temperature"),
        ({"generationConfig": {"maxOutputTokens": 0}}, "generationConfig.maxOutputTokens"),
        ({"generationConfig": {"responseSchema": {}}}, "generationConfig.responseSchema"),
        (
            {"generationConfig": {"thinkingConfig": {"thinkingLevel": "ULTRA"}}},
            "generationConfig.thinkingConfig.thinkingLevel",
        ),
    ],
)
def test_bad_input_names_the_field(body: dict[str, Any], param: str) -> None:
    full = {"contents": [{"parts": [{"text": "hi"}]}], **body}
    with pytest.raises(InvalidRequest) as caught:
        request_from_gemini(full, "gem", stream=False)
    assert caught.value.param == param
    assert param in caught.value.message


def test_count_tokens_bodies() -> None:
    plain = count_request_from_gemini({"contents": [{"parts": [{"text": "count me"}]}]}, "gem")
    assert plain.messages[0].text() == "count me"
    whole = count_request_from_gemini(
        {"generateContentRequest": {"model": "models/gem", **GEMINI_CLI}}, "gem"
    )
    assert whole.tools is not None and whole.messages[0].role == "system"
    with pytest.raises(InvalidRequest) as caught:
        count_request_from_gemini({}, "gem")
    assert caught.value.param == "contents"


def test_embedding_bodies() -> None:
    one = embedding_request_from_gemini(
        [{"model": "models/embed", "content": {"parts": [{"text": "a"}, {"text": "b"}]}}],
        "embed",
        "",
    )
    assert (one.model, one.input, one.dimensions) == ("embed", ["a\nb"], None)
    batch = embedding_request_from_gemini(
        [
            {"content": {"parts": [{"text": "x"}]}, "output_dimensionality": 4},
            {"content": {"parts": [{"text": "y"}]}, "outputDimensionality": 4},
        ],
        "embed",
        "requests",
    )
    assert (batch.input, batch.dimensions) == (["x", "y"], 4)
    with pytest.raises(InvalidRequest) as caught:
        embedding_request_from_gemini(
            [
                {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 4},
                {"content": {"parts": [{"text": "y"}]}},
            ],
            "embed",
            "requests",
        )
    assert caught.value.param == "requests.outputDimensionality"


def test_embedding_task_types_and_titles() -> None:
    batch = embedding_request_from_gemini(
        [
            {"content": {"parts": [{"text": "x"}]}, "task_type": "RETRIEVAL_DOCUMENT",
             "title": "X"},
            {"content": {"parts": [{"text": "y"}]}, "taskType": "RETRIEVAL_DOCUMENT"},
        ],
        "embed",
        "requests",
    )  # fmt: skip
    assert (batch.task, batch.titles) == ("document", ["X", None])
    plain = embedding_request_from_gemini(
        [{"content": {"parts": [{"text": "q"}]}, "taskType": "TASK_TYPE_UNSPECIFIED"}], "e", ""
    )
    assert (plain.task, plain.titles) == (None, None)
    code = embedding_request_from_gemini(
        [{"content": {"parts": [{"text": "q"}]}, "taskType": "CODE_RETRIEVAL_QUERY"}], "e", ""
    )
    assert code.task == "code_query"
    for items, param in (
        ([{"content": {"parts": [{"text": "q"}]}, "taskType": "GUESS"}], "taskType"),
        ([{"content": {"parts": [{"text": "q"}]}, "title": 3}], "title"),
        (
            [
                {"content": {"parts": [{"text": "x"}]}, "taskType": "CLUSTERING"},
                {"content": {"parts": [{"text": "y"}]}},
            ],
            "requests.taskType",
        ),
    ):
        with pytest.raises(InvalidRequest) as caught:
            embedding_request_from_gemini(items, "e", "requests" if len(items) > 1 else "")
        assert caught.value.param == param


# -- replies --------------------------------------------------------------------------------------


def test_reply_with_thoughts_text_calls_and_usage() -> None:
    response = ChatResponse(
        id="chatcmpl-9",
        created=0,
        model="gpt-4o-mini",
        choices=[
            Choice(
                message=Message(
                    role="assistant",
                    content="Reading it.",
                    reasoning="The user wants the file.",
                    tool_calls=[
                        ToolCall(
                            id="call_1",
                            name="read_file",
                            arguments='{"absolute_path": "/w/notes.txt"}',
                            thought_signature="c2ln",
                        ),
                        ToolCall(id="call_2", name="ls", arguments="not json"),
                    ],
                ),
                finish_reason="tool_calls",
            )
        ],
        usage=Usage(
            input_tokens=100, output_tokens=40, cached_input_tokens=60, reasoning_tokens=15
        ),
    )
    assert response_to_gemini(response) == {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "The user wants the file.", "thought": True},
                        {"text": "Reading it."},
                        {
                            "functionCall": {
                                "id": "call_1",
                                "name": "read_file",
                                "args": {"absolute_path": "/w/notes.txt"},
                            },
                            "thoughtSignature": "c2ln",
                        },
                        {"functionCall": {"id": "call_2", "name": "ls", "args": {}}},
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 100,
            "candidatesTokenCount": 25,
            "totalTokenCount": 140,
            "cachedContentTokenCount": 60,
            "thoughtsTokenCount": 15,
        },
        "modelVersion": "gpt-4o-mini",
        "responseId": "chatcmpl-9",
    }


@pytest.mark.parametrize(
    ("finish", "gemini"),
    [("stop", "STOP"), ("length", "MAX_TOKENS"), ("content_filter", "SAFETY"), ("error", "OTHER")],
)
def test_finish_reasons(finish: Any, gemini: str) -> None:
    response = ChatResponse(
        id="r",
        created=0,
        model="m",
        choices=[Choice(message=Message(role="assistant", content="x"), finish_reason=finish)],
    )
    assert response_to_gemini(response)["candidates"][0]["finishReason"] == gemini


def test_usage_without_cache_or_thoughts_says_only_the_counts() -> None:
    assert usage_to_gemini(Usage(input_tokens=5, output_tokens=2)) == {
        "promptTokenCount": 5,
        "candidatesTokenCount": 2,
        "totalTokenCount": 7,
    }


# -- streams -----------------------------------------------------------------------------------


def _chunk(**fields: Any) -> ChatChunk:
    return ChatChunk(id="chatcmpl-3", created=0, model="gpt-4o-mini", **fields)


STREAM = [
    _chunk(role="assistant", reasoning="Plan: read."),
    _chunk(text="Reading "),
    _chunk(text="now."),
    _chunk(tool_calls=[ToolCallDelta(index=0, id="call_7", name="read_file", arguments="")]),
    _chunk(tool_calls=[ToolCallDelta(index=0, arguments='{"absolute_')]),
    _chunk(tool_calls=[ToolCallDelta(index=0, arguments='path": "/w/a"}')]),
    _chunk(finish_reason="tool_calls"),
    _chunk(usage=Usage(input_tokens=9, output_tokens=6)),
]


def test_sse_stream_sends_text_as_it_comes_and_a_whole_call_at_the_end() -> None:
    events = GenerateEvents("fast", sse=True)
    out = b"".join(events.chunk(c) for c in STREAM) + events.end()
    frames = out.split(b"\r\n\r\n")
    assert frames[-1] == b""
    payloads = [json.loads(f.removeprefix(b"data: ")) for f in frames[:-1]]
    assert [p["candidates"][0].get("content", {}).get("parts") for p in payloads] == [
        [{"text": "Plan: read.", "thought": True}],
        [{"text": "Reading "}],
        [{"text": "now."}],
        [
            {
                "functionCall": {
                    "id": "call_7",
                    "name": "read_file",
                    "args": {"absolute_path": "/w/a"},
                }
            }
        ],
    ]
    assert all(p["modelVersion"] == "gpt-4o-mini" for p in payloads)
    assert {p["responseId"] for p in payloads} == {"chatcmpl-3"}
    last = payloads[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"] == {
        "promptTokenCount": 9,
        "candidatesTokenCount": 6,
        "totalTokenCount": 15,
    }
    assert not any("finishReason" in p["candidates"][0] for p in payloads[:-1])


def test_json_array_stream_is_one_json_document() -> None:
    events = GenerateEvents("fast", sse=False)
    out = b"".join(events.chunk(c) for c in STREAM[:3]) + events.end()
    items = json.loads(out)
    assert [i["candidates"][0].get("finishReason") for i in items] == [None, None, None, "STOP"]
    empty = GenerateEvents("fast", sse=False)
    assert json.loads(empty.end())[0]["candidates"][0]["finishReason"] == "STOP"


def test_a_failure_after_the_first_byte_ends_with_googles_error() -> None:
    failure = RateLimited("slow down")
    sse = GenerateEvents("fast", sse=True)
    sse.chunk(STREAM[1])
    raw = sse.error(failure)
    assert not raw.startswith(b"data:") and raw.endswith(b"\n")
    assert json.loads(raw) == {
        "error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}
    }
    array = GenerateEvents("fast", sse=False)
    out = array.chunk(STREAM[1]) + array.error(failure)
    assert json.loads(out)[-1] == error_to_gemini(failure)


def test_a_signed_streamed_call_keeps_its_signature() -> None:
    events = GenerateEvents("gem", sse=True)
    events.chunk(
        _chunk(
            tool_calls=[
                ToolCallDelta(
                    index=0, id="fc-1", name="ls", arguments="{}", thought_signature="c2ln"
                )
            ]
        )
    )
    last = json.loads(events.end().removeprefix(b"data: "))
    part = last["candidates"][0]["content"]["parts"][0]
    assert part["thoughtSignature"] == "c2ln" and part["functionCall"]["name"] == "ls"
