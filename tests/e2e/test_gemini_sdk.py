"""The official ``google-genai`` SDK -> the served gateway's Gemini door, over two upstreams:
a fake Gemini upstream (what the door reads goes up as Gemini's own request: thought
signatures, ``thinkingConfig``, safety settings and built-in tools survive the trip) and a fake
OpenAI chat-completions upstream (the same requests translated, Gemini-only parts left out).
Plain and streamed generation, a function-call round trip, count_tokens, embeddings, the model
list, the three ways to send the key, and Google's error JSON as the SDK's own exceptions."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.e2e.served import ServedGateway, serve
from tests.fakes.fixtures import fresh
from tests.fakes.gemini_upstream import (
    GeminiUpstream,
    Reply,
    error_body,
    function_call,
    response,
    sse,
    usage_metadata,
)
from tests.fakes.openai_upstream import OpenAIUpstream

KEY = "sk-gemini-door-master"
SIGNATURE = "CiRvcGFxdWUtdGhvdWdodC1zaWduYXR1cmUtYnl0ZXM="  # base64, as the SDK insists
READ_FILE: Any = {
    "name": "read_file",
    "description": "Read a file of the workspace",
    "parametersJsonSchema": {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
}


@pytest.fixture(scope="module")
def _gemini() -> Iterator[GeminiUpstream]:
    with GeminiUpstream().start() as server:
        yield server


@pytest.fixture(scope="module")
def _openai() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream().start() as server:
        yield server


@pytest.fixture(scope="module")
def served(_gemini: GeminiUpstream, _openai: OpenAIUpstream) -> Iterator[ServedGateway]:
    config = {
        "server": {"master_key": KEY},
        "providers": {
            "gem": {"type": "gemini", "base_url": _gemini.base_url, "api_key": "AIza-up"},
            "oai": {"type": "openai", "base_url": _openai.base_url, "api_key": "sk-up"},
        },
        "models": [
            {"name": "gem", "deployments": [{"provider": "gem", "model": "gemini-2.5-flash"}]},
            {"name": "oai", "deployments": [{"provider": "oai", "model": "gpt-4o-mini"}]},
            {
                "name": "embed",
                "deployments": [{"provider": "gem", "model": "gemini-embedding-001"}],
            },
        ],
        "router": {"retries": 0},
    }
    with serve(config) as gateway:
        yield gateway


@pytest.fixture()
def gemini(_gemini: GeminiUpstream) -> Iterator[GeminiUpstream]:
    with fresh(_gemini) as upstream:
        yield upstream


@pytest.fixture()
def openai_up(_openai: OpenAIUpstream) -> Iterator[OpenAIUpstream]:
    with fresh(_openai) as upstream:
        yield upstream


@pytest.fixture()
def client(served: ServedGateway) -> genai.Client:
    return genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=served.url))


def test_generate_content_over_gemini_keeps_what_gemini_alone_reads(
    client: genai.Client, gemini: GeminiUpstream
) -> None:
    gemini.script(
        Reply.json(
            response(
                [{"text": "Thinking it over", "thought": True}, {"text": "Hello there."}],
                usage=usage_metadata(12, 3, cached=4, thoughts=5),
            )
        )
    )
    answer = client.models.generate_content(
        model="gem",
        contents="Say hello.",
        config=types.GenerateContentConfig(
            system_instruction="Be brief.",
            temperature=0.2,
            top_k=20,
            max_output_tokens=64,
            stop_sequences=["END"],
            safety_settings=[
                types.SafetySetting(
                    category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
                    threshold=types.HarmBlockThreshold.BLOCK_NONE,
                )
            ],
            thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True),
        ),
    )
    assert answer.text == "Hello there."
    parts = answer.candidates[0].content.parts  # type: ignore[index,union-attr]
    assert parts[0].thought and parts[0].text == "Thinking it over"  # type: ignore[index]
    assert answer.candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    usage = answer.usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count) == (12, 3)
    assert (usage.cached_content_token_count, usage.thoughts_token_count) == (4, 5)
    assert usage.total_token_count == 20
    assert answer.model_version == "gemini-2.5-flash"
    assert answer.response_id == "resp-gem-1"
    sent = gemini.requests[0].json
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "Say hello."}]}]
    config = sent["generationConfig"]
    assert config["temperature"] == 0.2 and config["topK"] == 20
    assert config["maxOutputTokens"] == 64 and config["stopSequences"] == ["END"]
    assert config["thinkingConfig"] == {"thinkingBudget": 1024, "includeThoughts": True}
    assert sent["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}
    ]


def test_streaming_over_gemini(client: genai.Client, gemini: GeminiUpstream) -> None:
    gemini.script(
        sse(
            [
                response([{"text": "Plan", "thought": True}], None),
                response([{"text": "One, "}], None),
                response([{"text": "two."}], "STOP", usage_metadata(7, 2, thoughts=1)),
            ]
        )
    )
    chunks = list(client.models.generate_content_stream(model="gem", contents="Count."))
    assert "".join(c.text or "" for c in chunks) == "One, two."
    thoughts = [
        p.text
        for c in chunks
        for p in (c.candidates[0].content.parts if c.candidates[0].content else None) or []  # type: ignore[index]
        if p.thought
    ]
    assert thoughts == ["Plan"]
    last = chunks[-1]
    assert last.candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    assert last.usage_metadata is not None
    assert last.usage_metadata.prompt_token_count == 7
    assert last.usage_metadata.candidates_token_count == 2
    assert last.usage_metadata.thoughts_token_count == 1
    assert gemini.requests[0].path.endswith(":streamGenerateContent")


def test_a_stream_that_breaks_after_its_first_byte_raises_in_the_sdk(
    client: genai.Client, gemini: GeminiUpstream
) -> None:
    gemini.script(
        sse([response([{"text": "Hel"}], None), error_body(503, "The model is overloaded.")])
    )
    seen: list[str] = []
    with pytest.raises(errors.ServerError) as broken:
        for chunk in client.models.generate_content_stream(model="gem", contents="Hi"):
            seen.append(chunk.text or "")
    assert seen == ["Hel"]
    assert broken.value.code == 503 and broken.value.status == "UNAVAILABLE"


def test_function_call_round_trip_keeps_the_thought_signature(
    client: genai.Client, gemini: GeminiUpstream
) -> None:
    call = function_call("read_file", {"path": "notes.txt"}, "fc-7")
    call["thoughtSignature"] = SIGNATURE
    gemini.script(
        sse([response([call], "STOP", usage_metadata(20, 4))]),
        Reply.json(response([{"text": "The notes say: buy milk."}])),
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(**_snake(READ_FILE))])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    ask = types.Content(role="user", parts=[types.Part(text="What do my notes say?")])
    chunks = list(client.models.generate_content_stream(model="gem", contents=[ask], config=config))
    calls = [c for chunk in chunks for c in chunk.function_calls or []]
    assert len(calls) == 1
    assert (calls[0].id, calls[0].name, calls[0].args) == (
        "fc-7",
        "read_file",
        {"path": "notes.txt"},
    )
    model_turn = next(
        chunk.candidates[0].content  # type: ignore[index]
        for chunk in chunks
        if chunk.function_calls
    )
    assert model_turn is not None and model_turn.parts is not None
    assert model_turn.parts[0].thought_signature == base64.b64decode(SIGNATURE)
    declared = gemini.requests[0].json["tools"][0]["functionDeclarations"][0]
    assert declared["parametersJsonSchema"] == READ_FILE["parametersJsonSchema"]

    result = types.Part(
        function_response=types.FunctionResponse(
            id="fc-7", name="read_file", response={"output": "buy milk"}
        )
    )
    answer = client.models.generate_content(
        model="gem",
        contents=[ask, model_turn, types.Content(role="user", parts=[result])],
        config=config,
    )
    assert answer.text == "The notes say: buy milk."
    contents = gemini.requests[1].json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"] == [
        {
            "functionCall": {"name": "read_file", "args": {"path": "notes.txt"}},
            "thoughtSignature": SIGNATURE,
        }
    ]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "read_file", "response": {"output": "buy milk"}}}
    ]


def test_function_call_round_trip_over_openai(
    client: genai.Client, openai_up: OpenAIUpstream
) -> None:
    openai_up.script(
        Reply.json(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1755137933,
                "model": "gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "call_abc",
                                    "type": "function",
                                    "function": {
                                        "name": "read_file",
                                        "arguments": '{"path": "notes.txt"}',
                                    },
                                }
                            ],
                        },
                        "finish_reason": "tool_calls",
                    }
                ],
                "usage": {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35},
            }
        )
    )
    config = types.GenerateContentConfig(
        system_instruction="You are a coding agent.",
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(**_snake(READ_FILE))])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        thinking_config=types.ThinkingConfig(thinking_budget=512, include_thoughts=True),
    )
    ask = types.Content(role="user", parts=[types.Part(text="What do my notes say?")])
    answer = client.models.generate_content(model="oai", contents=[ask], config=config)
    calls = answer.function_calls or []
    assert [(c.id, c.name, c.args) for c in calls] == [
        ("call_abc", "read_file", {"path": "notes.txt"})
    ]
    assert answer.candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    sent = openai_up.requests[0].json
    assert sent["messages"][0] == {"role": "system", "content": "You are a coding agent."}
    assert sent["tools"][0]["function"]["parameters"] == READ_FILE["parametersJsonSchema"]
    assert "thinkingConfig" not in json.dumps(sent)  # Gemini's own knob stays with Gemini

    model_turn = answer.candidates[0].content  # type: ignore[index]
    result = types.Part(
        function_response=types.FunctionResponse(
            id="call_abc", name="read_file", response={"output": "buy milk"}
        )
    )
    stream = client.models.generate_content_stream(
        model="oai",
        contents=[ask, model_turn, types.Content(role="user", parts=[result])],  # type: ignore[list-item]
        config=config,
    )
    chunks = list(stream)
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    messages = openai_up.requests[1].json["messages"]
    assert messages[2]["tool_calls"][0]["id"] == "call_abc"
    assert messages[3] == {"role": "tool", "tool_call_id": "call_abc", "content": "buy milk"}
    # the fake echoes the last user message's text, streamed in word pieces
    assert "".join(c.text or "" for c in chunks) == "What do my notes say?"


def test_count_tokens_embeddings_and_models(client: genai.Client, gemini: GeminiUpstream) -> None:
    counted = client.models.count_tokens(model="gem", contents="How many tokens is this?")
    assert counted.total_tokens is not None and counted.total_tokens > 0

    one = client.models.embed_content(model="embed", contents="hello")
    assert one.embeddings is not None and len(one.embeddings) == 1
    many = client.models.embed_content(
        model="embed",
        contents=["hello", "world"],
        config=types.EmbedContentConfig(output_dimensionality=4),
    )
    assert many.embeddings is not None
    assert [len(e.values or []) for e in many.embeddings] == [4, 4]
    batch = gemini.requests[-1]
    assert batch.path.endswith(":batchEmbedContents")
    assert [r["outputDimensionality"] for r in batch.json["requests"]] == [4, 4]
    # the task and the title reach a Gemini upstream as they were sent
    client.models.embed_content(
        model="embed",
        contents=["a document", "another"],
        config=types.EmbedContentConfig(task_type="RETRIEVAL_DOCUMENT", title="Notes"),
    )
    sent = gemini.requests[-1].json["requests"]
    assert [(r["taskType"], r.get("title")) for r in sent] == [
        ("RETRIEVAL_DOCUMENT", "Notes"),
        ("RETRIEVAL_DOCUMENT", "Notes"),
    ]
    with pytest.raises(errors.ClientError) as refused:
        client.models.embed_content(
            model="embed", contents="q", config=types.EmbedContentConfig(task_type="GUESSING")
        )
    assert refused.value.code == 400 and "taskType" in str(refused.value.message)

    names = [m.name for m in client.models.list()]
    assert {"models/gem", "models/oai", "models/embed"} <= set(names)
    assert client.models.get(model="gem").name == "models/gem"


def test_keys_errors_and_aliases_with_a_slash(
    served: ServedGateway, client: genai.Client, openai_up: OpenAIUpstream
) -> None:
    with pytest.raises(errors.ClientError) as missing:
        client.models.generate_content(model="nope", contents="hi")
    assert missing.value.code == 404 and missing.value.status == "NOT_FOUND"

    wrong = genai.Client(api_key="wrong", http_options=types.HttpOptions(base_url=served.url))
    with pytest.raises(errors.ClientError) as refused:
        wrong.models.generate_content(model="oai", contents="hi")
    assert refused.value.code == 401 and refused.value.status == "UNAUTHENTICATED"

    url = f"{served.url}/v1beta/models/oai%2Fgpt-4o-mini:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "direct"}]}]}
    by_query = httpx.post(url, params={"key": KEY}, json=body)
    assert by_query.status_code == 200, by_query.text
    assert by_query.json()["candidates"][0]["content"]["parts"] == [{"text": "direct"}]
    by_bearer = httpx.post(url, headers={"authorization": f"Bearer {KEY}"}, json=body)
    assert by_bearer.status_code == 200
    bad = httpx.post(url, params={"key": KEY}, json={"contents": [{"parts": [{"nope": 1}]}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "contents[0].parts[0]" in bad.json()["error"]["message"]
    unknown = httpx.post(f"{served.url}/v1beta/models/oai:frobnicate", params={"key": KEY})
    assert unknown.status_code == 404 and unknown.json()["error"]["status"] == "NOT_FOUND"
    nowhere = httpx.get(f"{served.url}/v1beta/tunedModels", params={"key": KEY})
    assert nowhere.status_code == 404 and nowhere.json()["error"]["status"] == "NOT_FOUND"
    listed = httpx.get(f"{served.url}/v1/models", headers={"authorization": f"Bearer {KEY}"})
    assert "data" in listed.json()  # not a Google client: OpenAI's list


def test_stream_without_alt_sse_is_a_json_array(
    served: ServedGateway, openai_up: OpenAIUpstream
) -> None:
    url = f"{served.url}/v1beta/models/oai:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "one two three"}]}]}
    reply = httpx.post(url, headers={"x-goog-api-key": KEY}, json=body)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    items = reply.json()
    assert isinstance(items, list) and len(items) >= 2
    text = "".join(
        p.get("text", "")
        for item in items
        for p in (item["candidates"][0].get("content") or {}).get("parts", [])
    )
    assert text == "one two three"
    assert items[-1]["candidates"][0]["finishReason"] == "STOP"
    assert items[-1]["usageMetadata"]["promptTokenCount"] > 0


def _snake(declaration: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": declaration["name"],
        "description": declaration["description"],
        "parameters_json_schema": declaration["parametersJsonSchema"],
    }
