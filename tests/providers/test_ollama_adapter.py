"""The ``ollama`` adapter against the fake Ollama upstream on 127.0.0.1: what the contract
suite does not cover (URLs, auth, settings, NDJSON stream edge cases, refusals)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchyard.errors import (
    InvalidRequest,
    ModelNotFound,
    ProviderUnavailable,
    UpstreamProtocolError,
)
from switchyard.providers.ollama.adapter import OllamaProvider
from switchyard.providers.ollama.settings import OllamaSettings
from switchyard.types import ChatRequest, EmbeddingRequest, ImagePart, Message, TextPart
from tests.fakes import ollama_upstream as ol
from tests.fakes.fixtures import fake_upstream_fixtures
from tests.fakes.ollama_upstream import OllamaUpstream, Reply

_server, upstream = fake_upstream_fixtures(OllamaUpstream)


@pytest.fixture
async def provider(upstream: OllamaUpstream) -> AsyncIterator[OllamaProvider]:
    settings = OllamaSettings(
        base_url=upstream.base_url, keep_alive="10m", options={"num_ctx": 8192}
    )
    adapter = OllamaProvider("ol", settings)
    yield adapter
    await adapter.aclose()


def ask(text: str = "why is the sky blue?", **fields: Any) -> ChatRequest:
    return ChatRequest(model="llama3.2", messages=[Message(role="user", content=text)], **fields)


def test_settings_defaults() -> None:
    settings = OllamaSettings()
    assert settings.base_url == "http://127.0.0.1:11434"
    assert settings.api_key is None and settings.options == {} and settings.keep_alive is None


async def test_chat_posts_to_api_chat_without_auth(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    response = await provider.chat(ask(temperature=0.1))
    assert response.text == "why is the sky blue?"
    assert response.id.startswith("chatcmpl-") and response.model == "llama3.2"
    sent = upstream.last_request
    assert (sent.method, sent.path) == ("POST", "/api/chat")
    assert "authorization" not in sent.headers
    assert sent.json["stream"] is False and sent.json["keep_alive"] == "10m"
    assert sent.json["options"] == {"num_ctx": 8192, "temperature": 0.1}


async def test_an_api_key_is_sent_as_bearer(upstream: OllamaUpstream) -> None:
    adapter = OllamaProvider("cloud", OllamaSettings(base_url=upstream.base_url, api_key="ok"))
    try:
        await adapter.chat(ask())
    finally:
        await adapter.aclose()
    assert upstream.last_request.headers["authorization"] == "Bearer ok"


async def test_stream_reads_ndjson_with_one_id(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    chunks = [chunk async for chunk in provider.stream(ask("one two three"))]
    assert "".join(c.text or "" for c in chunks) == "one two three"
    assert len({c.id for c in chunks}) == 1
    assert upstream.last_request.headers["accept"] == "application/x-ndjson"
    assert upstream.last_request.json["stream"] is True


async def test_an_error_line_mid_stream_raises_after_the_text_so_far(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    lines = [
        ol.line({"content": " Yes"}),
        ol.line({"content": "."}),
        {"error": "an error was encountered while running the model"},
    ]
    upstream.script(Reply.lines(lines))
    received = []
    with pytest.raises(ProviderUnavailable, match="running the model") as caught:
        async for chunk in provider.stream(ask()):
            received.append(chunk.text or "")
    assert "".join(received) == " Yes." and caught.value.provider == "ol"


async def test_a_stream_without_its_done_line_is_unavailable(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    upstream.script(Reply.lines([ol.line({"content": "Hi"})]))
    with pytest.raises(ProviderUnavailable, match="done line"):
        [chunk async for chunk in provider.stream(ask())]


async def test_a_malformed_line_is_a_protocol_error(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    upstream.script(
        Reply.raw_bytes(
            b'{"model": "m", "done": false}\n{oops\n', content_type="application/x-ndjson"
        )
    )
    with pytest.raises(UpstreamProtocolError) as caught:
        [chunk async for chunk in provider.stream(ask())]
    assert caught.value.provider == "ol"


async def test_a_missing_model_is_raised_before_any_chunk(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    upstream.script(ol.error_reply(404, "model 'llama9' not found"))
    with pytest.raises(ModelNotFound, match="llama9"):
        await anext(provider.stream(ask()))


async def test_early_exit_closes_the_upstream_stream(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    lines = [ol.line({"content": "a"}) for _ in range(50)] + [ol.done_line()]
    upstream.script(Reply.lines(lines, chunk_delay=0.02))
    stream = provider.stream(ask())
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    await upstream.wait_for(lambda: upstream.requests[0].disconnected)


async def test_a_remote_image_is_refused_before_anything_is_sent(
    provider: OllamaProvider, upstream: OllamaUpstream
) -> None:
    message = Message(
        role="user",
        content=[TextPart(text="what is this?"), ImagePart(url="https://example.com/cat.png")],
    )
    with pytest.raises(InvalidRequest, match="base64"):
        await provider.chat(ChatRequest(model="llava", messages=[message]))
    assert upstream.requests == []


async def test_embed_tags_and_version(provider: OllamaProvider, upstream: OllamaUpstream) -> None:
    response = await provider.embed(EmbeddingRequest(model="all-minilm", input=["a", "b"]))
    assert len(response.data) == 2
    assert upstream.last_request.path == "/api/embed"
    assert upstream.last_request.json == {
        "model": "all-minilm",
        "input": ["a", "b"],
        "keep_alive": "10m",
    }
    assert await provider.list_models() == ["llama3.2:latest", "all-minilm:latest"]
    assert upstream.last_request.path == "/api/tags"
    await provider.health_check()
    assert upstream.last_request.path == "/api/version"


async def test_health_check_when_nothing_listens() -> None:
    adapter = OllamaProvider("ol", OllamaSettings(base_url="http://127.0.0.1:9"))
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.health_check()
    finally:
        await adapter.aclose()
