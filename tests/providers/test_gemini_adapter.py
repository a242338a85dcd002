"""The ``gemini`` adapter against the fake Gemini upstream on 127.0.0.1: what the contract
suite does not cover (URLs, credentials, error bodies, stream framing, embeddings, paging)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from switchyard.errors import (
    ContentFiltered,
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
from switchyard.providers.gemini.adapter import GeminiProvider
from switchyard.providers.gemini.errors import map_gemini_error, map_gemini_error_payload
from switchyard.providers.gemini.settings import GeminiSettings
from switchyard.types import ChatChunk, ChatRequest, EmbeddingRequest, Message
from tests.fakes.fixtures import fake_upstream_fixtures
from tests.fakes.gemini_upstream import (
    GeminiUpstream,
    Reply,
    embedding_for,
    error_body,
    error_reply,
    response,
    sse,
    usage_metadata,
)

_server, upstream = fake_upstream_fixtures(GeminiUpstream)


@pytest.fixture
async def provider(upstream: GeminiUpstream) -> AsyncIterator[GeminiProvider]:
    settings = GeminiSettings(
        base_url=upstream.base_url + "/", api_key="AIza-test", headers={"X-Team": "search"}
    )
    adapter = GeminiProvider("gem", settings)
    yield adapter
    await adapter.aclose()


def ask(text: str = "hello gemini", **fields: Any) -> ChatRequest:
    return ChatRequest(
        model="gemini-2.5-flash", messages=[Message(role="user", content=text)], **fields
    )


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


async def test_chat_url_and_credentials(provider: GeminiProvider, upstream: GeminiUpstream) -> None:
    reply = await provider.chat(ask())
    assert reply.text == "hello gemini" and reply.provider == "gem"
    sent = upstream.last_request
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.query == ""  # the key never rides in the URL
    assert sent.headers["x-goog-api-key"] == "AIza-test"
    assert "authorization" not in sent.headers
    assert sent.headers["x-team"] == "search"
    assert sent.json["contents"] == [{"role": "user", "parts": [{"text": "hello gemini"}]}]


async def test_stream_url_and_default_stream(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    chunks = await collect(provider.stream(ask("one two three")))
    assert "".join(c.text or "" for c in chunks) == "one two three"
    sent = upstream.last_request
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == "alt=sse"
    assert sent.headers["accept"] == "text/event-stream"
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 3


async def test_api_version_is_configurable(upstream: GeminiUpstream) -> None:
    settings = GeminiSettings(base_url=upstream.base_url, api_key="k", api_version="v1alpha")
    adapter = GeminiProvider("gem", settings)
    try:
        await adapter.chat(ask())
    finally:
        await adapter.aclose()
    assert upstream.last_request.path == "/v1alpha/models/gemini-2.5-flash:generateContent"


async def test_an_error_event_mid_stream_raises_the_mapped_error(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    upstream.script(
        sse([response([{"text": "Hel"}], None), error_body(503, "The model is overloaded.")])
    )
    received: list[str] = []
    with pytest.raises(ProviderUnavailable, match="overloaded"):
        async for chunk in provider.stream(ask()):
            received.append(chunk.text or "")
    assert received == ["Hel"]


async def test_a_stream_that_just_ends_without_finish_reason(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    upstream.script(sse([response([{"text": "Hel"}], None)]))
    with pytest.raises(ProviderUnavailable, match="ended early"):
        await collect(provider.stream(ask()))


async def test_a_stream_blocked_up_front_raises_before_any_chunk(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    upstream.script(sse([{"promptFeedback": {"blockReason": "SAFETY"}}]))
    with pytest.raises(ContentFiltered):
        await anext(provider.stream(ask()))


async def test_a_stream_answered_as_a_json_array_is_still_read(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    events = [response([{"text": "Hi"}], None), response([{"text": "!"}], "STOP")]
    upstream.script(Reply.json(events))
    chunks = await collect(provider.stream(ask()))
    assert "".join(c.text or "" for c in chunks) == "Hi!"


async def test_closing_the_stream_early_releases_the_connection(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    events = [response([{"text": f"piece {n} "}], None) for n in range(50)]
    upstream.script(sse([*events, response([], "STOP")], chunk_delay=0.05))
    stream = provider.stream(ask())
    first = await anext(stream)
    assert first.text == "piece 0 " and first.role == "assistant"
    await stream.aclose()  # type: ignore[attr-defined]
    await upstream.wait_for(lambda: upstream.requests[0].disconnected)


async def test_malformed_stream_events(provider: GeminiProvider, upstream: GeminiUpstream) -> None:
    upstream.script(sse(["{not json"]))
    with pytest.raises(UpstreamProtocolError):
        await collect(provider.stream(ask()))


async def test_embeddings_single_and_batch(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    one = await provider.embed(EmbeddingRequest(model="gemini-embedding-001", input=["a"]))
    assert one.data == [embedding_for("a")]
    assert upstream.last_request.path == "/v1beta/models/gemini-embedding-001:embedContent"
    many = await provider.embed(
        EmbeddingRequest(model="gemini-embedding-001", input=["a", "b"], dimensions=4)
    )
    assert many.data == [embedding_for("a", 4), embedding_for("b", 4)]
    sent = upstream.last_request
    assert sent.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert [r["outputDimensionality"] for r in sent.json["requests"]] == [4, 4]


async def test_list_models_follows_pages(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    upstream.script(
        Reply.json({"models": [{"name": "models/a"}], "nextPageToken": "tok/2"}),
        Reply.json({"models": [{"name": "models/b"}]}),
    )
    assert await provider.list_models() == ["a", "b"]
    first, second = upstream.requests
    assert first.path == "/v1beta/models" and first.query == "pageSize=1000"
    assert parse_qs(second.query) == {"pageSize": ["1000"], "pageToken": ["tok/2"]}
    await provider.health_check()


# -- errors ------------------------------------------------------------------------------------

API_KEY_INVALID = [
    {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }
]
QUOTA = [
    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"},
]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            error_reply(
                400, "API key not valid. Please pass a valid API key.", details=API_KEY_INVALID
            ),
            UpstreamAuthenticationError,
        ),
        (
            error_reply(
                400,
                "The input token count (1290240) exceeds the maximum number of tokens allowed "
                "(1048576).",
            ),
            ContextLengthExceeded,
        ),
        (error_reply(400, "Invalid value at 'generation_config.temperature'"), InvalidRequest),
        (error_reply(404, "models/nope is not found for API version v1beta"), ModelNotFound),
        (error_reply(504, "Deadline expired before operation could complete."), Timeout),
        (error_reply(500, "An internal error has occurred."), ProviderUnavailable),
        (Reply.raw_bytes(b"<html>413</html>", 413, content_type="text/html"), PayloadTooLarge),
        (error_reply(499, "The operation was cancelled.", "CANCELLED"), ProviderUnavailable),
    ],
)
async def test_documented_error_bodies(
    provider: GeminiProvider,
    upstream: GeminiUpstream,
    reply: Reply,
    expected: type[SwitchyardError],
) -> None:
    upstream.script(reply)
    with pytest.raises(SwitchyardError) as caught:
        await provider.chat(ask())
    assert type(caught.value) is expected
    assert caught.value.provider == "gem"


async def test_rate_limits_carry_the_retry_delay(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    upstream.script(error_reply(429, "You exceeded your current quota.", details=QUOTA))
    with pytest.raises(RateLimited) as caught:
        await provider.chat(ask())
    assert caught.value.retry_after == 34.0
    header_wins = map_gemini_error(
        429, {"Retry-After": "2"}, b'{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}', "g"
    )
    assert header_wins.retry_after == 2.0


def test_error_payloads_without_a_status_map_by_name() -> None:
    assert isinstance(map_gemini_error_payload(error_body(429, "slow down"), "g"), RateLimited)
    assert isinstance(
        map_gemini_error_payload({"error": {"message": "?", "status": "WEIRD"}}, "g"),
        ProviderUnavailable,
    )
    assert isinstance(map_gemini_error_payload({"error": {"code": 400}}, "g"), InvalidRequest)


async def test_content_filtered_reply_through_the_adapter(
    provider: GeminiProvider, upstream: GeminiUpstream
) -> None:
    upstream.script(
        Reply.json(
            {"candidates": [{"finishReason": "SAFETY"}], "usageMetadata": usage_metadata(4, 0)}
        )
    )
    with pytest.raises(ContentFiltered):
        await provider.chat(ask())
