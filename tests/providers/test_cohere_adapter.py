"""The ``cohere`` adapter against the fake Cohere upstream on 127.0.0.1: what the contract
suite does not cover (URLs, headers, settings, batching, paging, stream edge cases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchyard.errors import (
    ProviderUnavailable,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.providers.cohere.adapter import CohereProvider
from switchyard.providers.cohere.settings import CohereSettings
from switchyard.types import ChatRequest, EmbeddingRequest, Message
from tests.fakes import cohere_upstream as co
from tests.fakes.cohere_upstream import CohereUpstream, Reply
from tests.fakes.fixtures import fake_upstream_fixtures

_server, upstream = fake_upstream_fixtures(CohereUpstream)


@pytest.fixture
async def provider(upstream: CohereUpstream) -> AsyncIterator[CohereProvider]:
    settings = CohereSettings(
        base_url=upstream.base_url + "/",
        api_key="co-key",
        headers={"X-Client-Name": "switchyard-tests"},
        embed_input_type="search_query",
    )
    adapter = CohereProvider("co", settings)
    yield adapter
    await adapter.aclose()


def ask(text: str = "Hello Cohere", **fields: Any) -> ChatRequest:
    return ChatRequest(
        model="command-a-03-2025", messages=[Message(role="user", content=text)], **fields
    )


def test_settings_defaults() -> None:
    settings = CohereSettings()
    assert settings.base_url == "https://api.cohere.com"
    assert settings.embed_input_type == "search_document"


async def test_chat_posts_to_v2_chat_with_bearer_auth(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    response = await provider.chat(ask(max_tokens=20))
    assert response.text == "Hello Cohere"
    assert response.model == "command-a-03-2025" and response.provider == "co"
    assert response.created > 1_700_000_000
    sent = upstream.last_request
    assert (sent.method, sent.path) == ("POST", "/v2/chat")
    assert sent.headers["authorization"] == "Bearer co-key"
    assert sent.headers["x-client-name"] == "switchyard-tests"
    assert sent.json["stream"] is False and sent.json["max_tokens"] == 20


async def test_stream_asks_for_sse(provider: CohereProvider, upstream: CohereUpstream) -> None:
    chunks = [chunk async for chunk in provider.stream(ask("one two three"))]
    assert "".join(c.text or "" for c in chunks) == "one two three"
    assert upstream.last_request.headers["accept"] == "text/event-stream"
    assert upstream.last_request.json["stream"] is True
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]


async def test_early_exit_closes_the_upstream_stream(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    events = [co.message_start(), *co.text_events(["a"] * 50), co.message_end("COMPLETE")]
    upstream.script(Reply.stream(events, done=False, chunk_delay=0.02))
    stream = provider.stream(ask())
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    await upstream.wait_for(lambda: upstream.requests[0].disconnected)


async def test_an_error_at_message_end_raises_after_the_text_so_far(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    end = co.event("message-end", delta={"finish_reason": "ERROR", "error": "model crashed"})
    upstream.script(Reply.stream([co.message_start(), *co.text_events(["Par"]), end], done=False))
    received = []
    with pytest.raises(ProviderUnavailable, match="model crashed"):
        async for chunk in provider.stream(ask()):
            received.append(chunk.text or "")
    assert "".join(received) == "Par"


async def test_a_stream_without_message_end_is_unavailable(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    upstream.script(Reply.stream([co.message_start(), *co.text_events(["Par"])], done=False))
    with pytest.raises(ProviderUnavailable, match="message-end"):
        [chunk async for chunk in provider.stream(ask())]


async def test_a_malformed_stream_event_is_a_protocol_error(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    upstream.script(Reply.stream([co.message_start(), ("content-delta", "{oops")], done=False))
    with pytest.raises(UpstreamProtocolError) as caught:
        [chunk async for chunk in provider.stream(ask())]
    assert caught.value.provider == "co"


async def test_a_401_on_a_stream_is_raised_before_any_chunk(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    upstream.script(co.error_reply(401, "invalid api token"))
    with pytest.raises(UpstreamAuthenticationError, match="invalid api token"):
        await anext(provider.stream(ask()))


async def test_embed_uses_the_configured_input_type_and_batches(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    texts = [f"text {i}" for i in range(100)]
    response = await provider.embed(EmbeddingRequest(model="embed-v4.0", input=texts))
    assert len(response.data) == 100 and response.usage.input_tokens == 100
    sent = [request.json for request in upstream.requests]
    assert [request["texts"] for request in sent] == [texts[:96], texts[96:]]
    assert {request["input_type"] for request in sent} == {"search_query"}
    assert {tuple(request["embedding_types"]) for request in sent} == {("float",)}
    assert upstream.requests[0].path == "/v2/embed"


async def test_list_models_follows_pages_and_health_asks_for_one(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    upstream.script(
        Reply.json({**co.models_reply(["command-a-03-2025"]), "next_page_token": "page-2"}),
        Reply.json(co.models_reply(["embed-v4.0"])),
    )
    assert await provider.list_models() == ["command-a-03-2025", "embed-v4.0"]
    assert [r.query for r in upstream.requests] == [
        "page_size=1000",
        "page_size=1000&page_token=page-2",
    ]
    assert {r.path for r in upstream.requests} == {"/v1/models"}
    await provider.health_check()
    assert upstream.last_request.query == "page_size=1"


async def test_health_check_raises_the_mapped_error(
    provider: CohereProvider, upstream: CohereUpstream
) -> None:
    upstream.script(co.error_reply(401, "no api key supplied"))
    with pytest.raises(UpstreamAuthenticationError):
        await provider.health_check()


def test_capabilities() -> None:
    capabilities = CohereProvider.capabilities
    assert capabilities.tools and capabilities.vision and capabilities.json_mode
    assert capabilities.embeddings and capabilities.list_models and capabilities.stream
