"""The ``openai`` adapter against the fake OpenAI upstream on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.formats.openai_chat import request_from_openai
from switchyard.providers.openai.adapter import OpenAIProvider
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    EmbeddingRequest,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
)
from tests.fakes.cassettes import load_cassette
from tests.fakes.openai_upstream import OpenAIUpstream, Reply, embedding_for


@pytest.fixture
async def provider(openai_upstream: OpenAIUpstream) -> AsyncIterator[OpenAIProvider]:
    settings = OpenAISettings(
        base_url=openai_upstream.base_url,
        api_key="sk-test",
        organization="org-1",
        project="proj-1",
        headers={"X-Team": "search"},
    )
    adapter = OpenAIProvider("openai-main", settings)
    yield adapter
    await adapter.aclose()


def ask(text: str = "Hello there, general Kenobi", **changes: Any) -> ChatRequest:
    return ChatRequest(
        model="gpt-4o-mini", messages=[Message(role="user", content=text)], **changes
    )


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


# -- chat ---------------------------------------------------------------------------------------


async def test_chat_sends_openai_json_with_credentials(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    response = await provider.chat(ask(temperature=0.5, max_tokens=20))

    assert response.text == "Hello there, general Kenobi"
    assert response.provider == "openai-main"
    assert response.usage.input_tokens == 4 and response.usage.output_tokens == 4
    sent = openai_upstream.last_request
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.headers["openai-organization"] == "org-1"
    assert sent.headers["openai-project"] == "proj-1"
    assert sent.headers["x-team"] == "search"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hello there, general Kenobi"}],
        "temperature": 0.5,
        "max_tokens": 20,  # not api.openai.com: the name every compatible server knows
    }


async def test_chat_reads_a_recorded_openai_reply(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    cassette = load_cassette("chat-basic")
    openai_upstream.script(Reply.from_cassette(cassette))

    response = await provider.chat(request_from_openai(cassette.request_json))

    recorded = cassette.response_json
    assert response.text == recorded["choices"][0]["message"]["content"]
    assert (response.id, response.model) == (recorded["id"], recorded["model"])
    assert response.usage.reasoning_tokens == 320
    assert openai_upstream.last_request.json == cassette.request_json


def test_max_tokens_field_follows_the_upstream() -> None:
    assert OpenAISettings().resolved_max_tokens_field() == "max_completion_tokens"
    local = OpenAISettings(base_url="http://127.0.0.1:8000/v1")
    assert local.resolved_max_tokens_field() == "max_tokens"
    forced = OpenAISettings(
        base_url="http://127.0.0.1:8000/v1", max_tokens_field="max_completion_tokens"
    )
    assert forced.resolved_max_tokens_field() == "max_completion_tokens"


async def test_max_completion_tokens_when_configured(openai_upstream: OpenAIUpstream) -> None:
    settings = OpenAISettings(
        base_url=openai_upstream.base_url, max_tokens_field="max_completion_tokens"
    )
    adapter = OpenAIProvider("o", settings)
    try:
        await adapter.chat(ask(max_tokens=7))
    finally:
        await adapter.aclose()
    sent = openai_upstream.last_request
    assert sent.json["max_completion_tokens"] == 7 and "max_tokens" not in sent.json
    assert "authorization" not in sent.headers  # no api_key, no header


async def test_tools_round_trip(provider: OpenAIProvider, openai_upstream: OpenAIUpstream) -> None:
    cassette = load_cassette("chat-tools")
    openai_upstream.script(
        Reply.from_cassette(cassette), Reply.json(load_cassette("chat-basic").response_json)
    )
    request = request_from_openai(cassette.request_json)

    response = await provider.chat(request)

    recorded_call = cassette.response_json["choices"][0]["message"]["tool_calls"][0]
    assert response.choices[0].finish_reason == "tool_calls"
    assert response.message.tool_calls == [
        ToolCall(
            id=recorded_call["id"],
            name=recorded_call["function"]["name"],
            arguments=recorded_call["function"]["arguments"],
        )
    ]
    assert openai_upstream.requests[0].json["tools"] == cassette.request_json["tools"]

    # Second turn: the call and its result go back upstream exactly.
    follow_up = request.model_copy(
        update={
            "messages": [
                *request.messages,
                response.message,
                Message(role="tool", tool_call_id=recorded_call["id"], content='{"temp": 52}'),
            ]
        }
    )
    await provider.chat(follow_up)
    assistant, tool = openai_upstream.last_request.json["messages"][1:]
    assert assistant == {"role": "assistant", "content": None, "tool_calls": [recorded_call]}
    assert tool == {"role": "tool", "content": '{"temp": 52}', "tool_call_id": recorded_call["id"]}


async def test_streamed_tool_calls_keep_arguments_byte_identical(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    pieces = ['{"loc', 'ation": "S\\u00e3o ', "Paulo, BR", '\\"quoted\\""', "}"]
    openai_upstream.script(
        Reply.stream(
            [
                chunk({"role": "assistant", "content": None}),
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ]
                    }
                ),
                *(
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                    for piece in pieces
                ),
                chunk({}, "tool_calls"),
            ]
        )
    )
    request = ask(
        tools=[Tool(name="get_weather", parameters={"type": "object"})], tool_choice="required"
    )

    chunks = await collect(provider.stream(request))

    deltas = [delta for c in chunks for delta in c.tool_calls or ()]
    assert (deltas[0].id, deltas[0].name) == ("call_1", "get_weather")
    assert "".join(d.arguments or "" for d in deltas) == "".join(pieces)
    assert chunks[-1].finish_reason == "tool_calls"
    assert openai_upstream.last_request.json["tool_choice"] == "required"


async def test_json_modes_are_passed_through(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    await provider.chat(ask(response_format=ResponseFormat(type="json_object")))
    assert openai_upstream.last_request.json["response_format"] == {"type": "json_object"}

    cassette = load_cassette("chat-openai-agents-python")
    openai_upstream.script(Reply.from_cassette(cassette))
    response = await provider.chat(request_from_openai(cassette.request_json))
    assert (
        openai_upstream.last_request.json["response_format"]
        == cassette.request_json["response_format"]
    )
    assert response.text.startswith('{"searches":')


# -- streaming ----------------------------------------------------------------------------------


async def test_stream_reassembles_exactly_and_always_asks_for_usage(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    text = "Streams  keep   every space, and ünïcode ✓."
    chunks = await collect(provider.stream(ask(text, stream=True, include_usage=False)))

    assert "".join(c.text or "" for c in chunks) == text
    assert chunks[0].role == "assistant"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == len(text.split())
    sent = openai_upstream.last_request
    assert sent.json["stream"] is True
    assert sent.json["stream_options"] == {"include_usage": True}
    assert sent.headers["accept"] == "text/event-stream"


async def test_stream_replays_a_recorded_openai_stream(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    cassette = load_cassette("chat-streaming")
    openai_upstream.script(Reply.from_cassette(cassette))

    chunks = await collect(provider.stream(request_from_openai(cassette.request_json)))

    expected = "".join(
        (__import__("orjson").loads(data)["choices"][0]["delta"].get("content") or "")
        for data in cassette.sse_data
        if data != "[DONE]"
    )
    assert "".join(c.text or "" for c in chunks) == expected
    assert chunks[-1].finish_reason == "stop"


async def test_stream_cut_mid_way_raises_after_the_earlier_chunks(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "one"}),
        chunk({"content": " two"}),
    ]
    openai_upstream.script(Reply.stream([*events, chunk({"content": " three"})], cut_after=3))

    received: list[ChatChunk] = []
    with pytest.raises(ProviderUnavailable) as caught:
        async for piece in provider.stream(ask()):
            received.append(piece)

    assert "".join(c.text or "" for c in received) == "one two"
    assert caught.value.provider == "openai-main"


async def test_stream_that_ends_without_done_is_unavailable(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.stream([chunk({"content": "partial"})], done=False))
    received: list[ChatChunk] = []
    with pytest.raises(ProviderUnavailable, match="ended early"):
        async for piece in provider.stream(ask()):
            received.append(piece)
    assert [c.text for c in received] == ["partial"]


async def test_malformed_chunk_is_a_protocol_error(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.stream([chunk({"content": "ok"}), "{not json"]))
    received: list[ChatChunk] = []
    with pytest.raises(UpstreamProtocolError) as caught:
        async for piece in provider.stream(ask()):
            received.append(piece)
    assert [c.text for c in received] == ["ok"]
    assert caught.value.provider == "openai-main"


async def test_chunk_of_the_wrong_shape_is_a_protocol_error(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.stream([{"choices": "nope"}]))
    with pytest.raises(UpstreamProtocolError) as caught:
        await collect(provider.stream(ask()))
    assert caught.value.provider == "openai-main"


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        ({"message": "The server had an error", "type": "server_error"}, ProviderUnavailable),
        (
            {
                "message": "too long",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
            },
            ContextLengthExceeded,
        ),
    ],
)
async def test_error_event_mid_stream_raises_the_mapped_error(
    provider: OpenAIProvider,
    openai_upstream: OpenAIUpstream,
    error: dict[str, Any],
    cls: type[SwitchyardError],
) -> None:
    openai_upstream.script(Reply.stream([chunk({"content": "so far"}), {"error": error}]))
    received: list[ChatChunk] = []
    with pytest.raises(cls) as caught:
        async for piece in provider.stream(ask()):
            received.append(piece)
    assert [c.text for c in received] == ["so far"]
    assert caught.value.message == error["message"]


async def test_error_status_is_raised_before_anything_is_yielded(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(
        Reply.error(429, "Rate limit reached", type="requests", headers={"retry-after": "2"})
    )
    stream = provider.stream(ask())
    with pytest.raises(RateLimited) as caught:
        await anext(stream)
    assert caught.value.retry_after == 2.0


async def test_a_json_answer_to_a_stream_request_is_streamed(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.from_cassette(load_cassette("chat-tools")))
    chunks = await collect(provider.stream(ask()))
    assert (
        chunks[0].tool_calls is not None and chunks[0].tool_calls[0].name == "get_current_weather"
    )
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.input_tokens == 162


async def test_early_exit_closes_the_upstream_connection(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    many = [chunk({"content": f" {n}"}) for n in range(200)]
    openai_upstream.script(Reply.stream(many, chunk_delay=0.01))

    stream = provider.stream(ask())
    first = [await anext(stream), await anext(stream)]
    await stream.aclose()  # type: ignore[attr-defined]

    assert [c.text for c in first] == [" 0", " 1"]
    await openai_upstream.wait_for(lambda: openai_upstream.last_request.disconnected)
    assert not openai_upstream.last_request.completed


@pytest.mark.parametrize("streaming", [False, True])
async def test_slow_upstream_cancels_cleanly_under_a_timeout(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream, streaming: bool
) -> None:
    openai_upstream.script(Reply.json(load_cassette("chat-basic").response_json, delay=5))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            if streaming:
                await collect(provider.stream(ask()))
            else:
                await provider.chat(ask())
    assert time.monotonic() - started < 2
    await openai_upstream.wait_for(lambda: openai_upstream.last_request.disconnected)
    # The provider is still usable afterwards.
    assert (await provider.chat(ask("again"))).text == "again"


# -- errors -------------------------------------------------------------------------------------

STATUSES = [
    (400, InvalidRequest),
    (401, UpstreamAuthenticationError),
    (403, UpstreamAuthenticationError),
    (404, ModelNotFound),
    (413, PayloadTooLarge),
    (429, RateLimited),
    (500, ProviderUnavailable),
    (503, ProviderUnavailable),
    (529, ProviderUnavailable),
]


@pytest.mark.parametrize(("status", "cls"), STATUSES)
@pytest.mark.parametrize("streaming", [False, True])
async def test_error_statuses_map_onto_the_taxonomy(
    provider: OpenAIProvider,
    openai_upstream: OpenAIUpstream,
    status: int,
    cls: type[SwitchyardError],
    streaming: bool,
) -> None:
    openai_upstream.script(Reply.error(status, f"upstream said {status}", param="model"))
    with pytest.raises(cls) as caught:
        if streaming:
            await collect(provider.stream(ask()))
        else:
            await provider.chat(ask())
    error = caught.value
    assert type(error) is cls
    assert (error.message, error.param, error.upstream_status) == (
        f"upstream said {status}",
        "model",
        status,
    )
    assert error.provider == "openai-main"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "3"}, 3.0), ({"retry-after-ms": "250"}, 0.25), ({}, None)],
)
async def test_retry_after_is_honoured(
    provider: OpenAIProvider,
    openai_upstream: OpenAIUpstream,
    headers: dict[str, str],
    seconds: float | None,
) -> None:
    openai_upstream.script(
        Reply.error(429, "slow down", type="requests", code="rate_limit_exceeded", headers=headers)
    )
    with pytest.raises(RateLimited) as caught:
        await provider.chat(ask())
    assert caught.value.retry_after == seconds
    assert caught.value.retryable


async def test_recorded_unknown_model(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.from_cassette(load_cassette("chat-unknown-model")))
    with pytest.raises(ModelNotFound, match="does not exist"):
        await provider.chat(ask())


@pytest.mark.parametrize(
    "reply",
    [
        Reply.raw_bytes(b'{"id": "chatcmpl-1", "choices": [{"mess'),
        Reply.raw_bytes(b"<html>oops</html>", content_type="text/html"),
        Reply.raw_bytes(b"[]"),
        Reply.json({"id": "x", "choices": []}),
    ],
)
async def test_malformed_replies_are_protocol_errors(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream, reply: Reply
) -> None:
    openai_upstream.script(reply)
    with pytest.raises(UpstreamProtocolError) as caught:
        await provider.chat(ask())
    assert caught.value.provider == "openai-main"


async def test_an_error_body_with_status_200_is_still_an_error(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.json({"error": {"message": "overloaded", "type": "server_error"}}))
    with pytest.raises(ProviderUnavailable, match="overloaded"):
        await provider.chat(ask())


async def test_connection_dropped_before_the_reply(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply(cut_after=0))
    with pytest.raises(ProviderUnavailable):
        await provider.chat(ask())


async def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = OpenAIProvider("gone", OpenAISettings(base_url=f"http://127.0.0.1:{port}/v1"))
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.chat(ask())
        with pytest.raises(ProviderUnavailable):
            await collect(adapter.stream(ask()))
    finally:
        await adapter.aclose()


# -- embeddings, models, health -----------------------------------------------------------------


async def test_embeddings(provider: OpenAIProvider, openai_upstream: OpenAIUpstream) -> None:
    response = await provider.embed(
        EmbeddingRequest(model="text-embedding-3-small", input=["a b", "c"], dimensions=4)
    )

    assert response.data == [embedding_for("a b", 4), embedding_for("c", 4)]
    assert response.usage.input_tokens == 3 and response.provider == "openai-main"
    sent = openai_upstream.last_request
    assert sent.path == "/v1/embeddings"
    assert sent.json == {"model": "text-embedding-3-small", "input": ["a b", "c"], "dimensions": 4}


async def test_base64_embeddings_are_decoded(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    response = await provider.embed(
        EmbeddingRequest(model="m", input=["x"], encoding_format="base64")
    )
    assert response.data == [embedding_for("x")]

    openai_upstream.script(Reply.from_cassette(load_cassette("embeddings-base64")))
    recorded = await provider.embed(
        EmbeddingRequest(model="text-embedding-3-small", input=["How do I reset my password?"])
    )
    floats = load_cassette("embeddings-basic").response_json["data"][0]["embedding"]
    assert recorded.data[0] == pytest.approx(floats, abs=1e-6)


async def test_embedding_errors(provider: OpenAIProvider, openai_upstream: OpenAIUpstream) -> None:
    openai_upstream.script(Reply.from_cassette(load_cassette("embeddings-unknown-model")))
    with pytest.raises(ModelNotFound):
        await provider.embed(EmbeddingRequest(model="text-embedding-4-ultra", input=["x"]))


async def test_list_models_and_health(
    provider: OpenAIProvider, openai_upstream: OpenAIUpstream
) -> None:
    assert await provider.list_models() == ["gpt-4o-mini", "gpt-5-nano", "text-embedding-3-small"]
    assert openai_upstream.last_request.method == "GET"
    assert openai_upstream.last_request.path == "/v1/models"
    await provider.health_check()

    openai_upstream.script(
        Reply.error(
            401, "Incorrect API key provided", type="invalid_request_error", code="invalid_api_key"
        )
    )
    with pytest.raises(UpstreamAuthenticationError):
        await provider.health_check()
    openai_upstream.script(Reply.json({"object": "list", "data": [{"name": "no id"}]}))
    with pytest.raises(UpstreamProtocolError):
        await provider.list_models()


def test_capabilities() -> None:
    caps = OpenAIProvider.capabilities
    assert caps.tools and caps.vision and caps.json_mode and caps.embeddings and caps.list_models
