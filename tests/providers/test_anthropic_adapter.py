"""The ``anthropic`` adapter against the fake Anthropic upstream on 127.0.0.1: what goes on the
wire, and what the contract suite does not already cover (streams with several blocks, error
events, JSON checks, paging, the connection's release)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.catalog.catalog import Catalog
from switchyard.errors import (
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.providers.anthropic.adapter import AnthropicProvider
from switchyard.providers.anthropic.settings import AnthropicSettings
from switchyard.types import ChatChunk, ChatRequest, Message, ResponseFormat, Tool
from tests.fakes.anthropic_upstream import (
    AnthropicUpstream,
    Reply,
    block_start,
    block_stop,
    error_event,
    error_reply,
    json_delta,
    message,
    message_delta,
    message_start,
    message_stop,
    models_page,
    stream_reply,
    text_block,
    text_delta,
    tool_use_block,
    usage,
)
from tests.fakes.fixtures import fake_upstream_fixtures

_server, upstream = fake_upstream_fixtures(AnthropicUpstream)


def make_provider(upstream: AnthropicUpstream, **settings: Any) -> AnthropicProvider:
    options: dict[str, Any] = {"base_url": upstream.base_url, "api_key": "sk-ant-test"}
    return AnthropicProvider("claude", AnthropicSettings(**{**options, **settings}))


@pytest.fixture
async def provider(upstream: AnthropicUpstream) -> AsyncIterator[AnthropicProvider]:
    adapter = make_provider(upstream, beta=["token-efficient-tools-2025-02-19"])
    yield adapter
    await adapter.aclose()


def ask(text: str = "Hello, Claude", **fields: Any) -> ChatRequest:
    fields.setdefault("model", "claude-sonnet-4-5")
    return ChatRequest(messages=[Message(role="user", content=text)], **fields)


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


# -- chat ---------------------------------------------------------------------------------------


async def test_chat_sends_the_messages_api_request(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    response = await provider.chat(ask(temperature=0.5))
    assert response.text == "Hello, Claude"
    sent = upstream.last_request
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.headers["x-api-key"] == "sk-ant-test"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["anthropic-beta"] == "token-efficient-tools-2025-02-19"
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers
    sonnet = Catalog.default().get("claude-sonnet-4-5")
    assert sonnet is not None
    assert sent.json == {
        "model": "claude-sonnet-4-5",
        "max_tokens": sonnet.max_output_tokens,
        "messages": [{"role": "user", "content": "Hello, Claude"}],
        "temperature": 0.5,
    }


async def test_max_tokens_is_always_sent(upstream: AnthropicUpstream) -> None:
    plain, configured = make_provider(upstream), make_provider(upstream, default_max_tokens=999)
    await plain.chat(ask(model="claude-custom-finetune"))
    await plain.chat(ask(max_tokens=12))
    await configured.chat(ask())
    await configured.chat(ask(max_tokens=12))
    assert [r.json["max_tokens"] for r in upstream.requests] == [4096, 12, 999, 12]
    await plain.aclose()
    await configured.aclose()


async def test_the_default_max_tokens_follows_the_gateways_catalog(
    upstream: AnthropicUpstream,
) -> None:
    """``catalog.models`` in config overrides the packaged entry the adapter reads."""
    packaged = Catalog.default().get("claude-sonnet-4-5")
    assert packaged is not None and packaged.max_output_tokens != 1234
    config = {
        "providers": {
            "claude": {"type": "anthropic", "base_url": upstream.base_url, "api_key": "k"}
        },
        "models": [
            {
                "name": "sonnet",
                "deployments": [{"provider": "claude", "model": "claude-sonnet-4-5"}],
            }
        ],
        "catalog": {
            "models": [
                {
                    "name": "claude-sonnet-4-5",
                    "provider": "anthropic",
                    "context_window": 200_000,
                    "max_output_tokens": 1234,
                }
            ]
        },
    }
    async with Gateway.from_config(config) as gateway:
        await gateway.chat(model="sonnet", messages=[{"role": "user", "content": "hi"}])
        assert upstream.last_request.json["max_tokens"] == 1234
        stream = gateway.stream(model="sonnet", messages=[{"role": "user", "content": "hi"}])
        async for _ in stream:
            pass
        assert upstream.last_request.json["max_tokens"] == 1234


async def test_configured_headers_win(upstream: AnthropicUpstream) -> None:
    adapter = make_provider(
        upstream, anthropic_version="2024-01-01", headers={"X-Team": "search", "X-Api-Key": "k2"}
    )
    await adapter.chat(ask())
    sent = upstream.last_request.headers
    assert (sent["anthropic-version"], sent["x-team"], sent["x-api-key"]) == (
        "2024-01-01",
        "search",
        "k2",
    )
    assert "anthropic-beta" not in sent
    await adapter.aclose()


async def test_an_error_payload_with_status_200_is_still_an_error(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    upstream.script(error_reply(200, "overloaded_error", "Overloaded"))
    with pytest.raises(ProviderUnavailable):
        await provider.chat(ask())


async def test_json_mode_replies_are_checked(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    fmt = ResponseFormat(type="json_object")
    upstream.script(
        Reply.json(message([text_block('{"capital": "Paris"}')])),
        Reply.json(message([text_block("The capital is Paris.")])),
        Reply.json(message([text_block('{"capital": "Par')], stop_reason="max_tokens")),
    )
    assert (await provider.chat(ask(response_format=fmt))).text == '{"capital": "Paris"}'
    with pytest.raises(UpstreamProtocolError) as caught:
        await provider.chat(ask(response_format=fmt))
    assert caught.value.provider == "claude"
    truncated = await provider.chat(ask(response_format=fmt))
    assert truncated.choices[0].finish_reason == "length"


# -- streams ------------------------------------------------------------------------------------


async def test_stream_of_text_and_parallel_tool_calls(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    paris, oslo = ['{"city": "Par', 'is"}'], ['{"city"', ': "Oslo"}']
    upstream.script(
        stream_reply(
            [
                message_start(id="msg_stream1"),
                block_start(0, text_block("")),
                text_delta(0, "Checking."),
                block_stop(0),
                block_start(1, tool_use_block("toolu_A", "get_weather", {})),
                *(json_delta(1, piece) for piece in paris),
                block_stop(1),
                block_start(2, tool_use_block("toolu_B", "get_weather", {})),
                *(json_delta(2, piece) for piece in oslo),
                block_stop(2),
                message_delta("tool_use", 40),
                message_stop(),
            ],
            chunk_delay=0.001,
        )
    )
    weather = Tool(name="get_weather", parameters={"type": "object"})
    chunks = await collect(provider.stream(ask("Paris and Oslo?", tools=[weather])))
    sent = upstream.last_request
    assert sent.json["stream"] is True and sent.headers["accept"] == "text/event-stream"
    assert {c.id for c in chunks} == {"msg_stream1"}
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert [(d.index, d.id) for d in deltas if d.id] == [(0, "toolu_A"), (1, "toolu_B")]
    assert "".join(d.arguments or "" for d in deltas if d.index == 0) == "".join(paris)
    assert "".join(d.arguments or "" for d in deltas if d.index == 1) == "".join(oslo)
    assert chunks[-1].finish_reason == "tool_calls"


async def test_the_default_echo_streams(provider: AnthropicProvider) -> None:
    chunks = await collect(provider.stream(ask("one two three")))
    assert "".join(c.text or "" for c in chunks) == "one two three"
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 3


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (error_reply(529, "overloaded_error", "Overloaded"), ProviderUnavailable),
        (
            error_reply(429, "rate_limit_error", "slow down", headers={"retry-after": "2"}),
            RateLimited,
        ),
        (stream_reply([message_start(), error_event()]), ProviderUnavailable),
    ],
    ids=["529", "429", "error-event-before-content"],
)
async def test_failures_before_content_raise_before_any_chunk(
    provider: AnthropicProvider,
    upstream: AnthropicUpstream,
    reply: Reply,
    expected: type[Exception],
) -> None:
    upstream.script(reply)
    stream = provider.stream(ask())
    with pytest.raises(expected) as caught:
        await anext(stream)
    if expected is RateLimited:
        assert getattr(caught.value, "retry_after", None) == 2.0


async def test_an_error_event_mid_stream_ends_it_with_the_mapped_error(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    upstream.script(
        stream_reply(
            [
                message_start(),
                block_start(0, text_block("")),
                text_delta(0, "Once upon"),
                error_event("overloaded_error", "Overloaded"),
                text_delta(0, " a time"),
            ]
        )
    )
    received: list[str] = []
    with pytest.raises(ProviderUnavailable):
        async for chunk in provider.stream(ask()):
            received.append(chunk.text or "")
    assert received == ["Once upon"]


async def test_a_stream_that_ends_without_message_stop_is_unavailable(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    events = [message_start(), block_start(0, text_block("")), text_delta(0, "Hi"), block_stop(0)]
    upstream.script(stream_reply(events))
    with pytest.raises(ProviderUnavailable):
        await collect(provider.stream(ask()))


async def test_a_malformed_event_is_a_protocol_error(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    upstream.script(stream_reply([message_start(), ("content_block_delta", "{oops")]))
    with pytest.raises(UpstreamProtocolError):
        await collect(provider.stream(ask()))


async def test_streamed_json_mode_is_checked_at_the_end(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    events = [
        message_start(),
        block_start(0, text_block("")),
        text_delta(0, "Sure: {}"),
        block_stop(0),
        message_delta("end_turn", 3),
        message_stop(),
    ]
    upstream.script(stream_reply(events))
    with pytest.raises(UpstreamProtocolError):
        await collect(provider.stream(ask(response_format=ResponseFormat(type="json_object"))))


async def test_a_json_answer_to_a_stream_request_is_streamed(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    content = [text_block("Checking."), tool_use_block("toolu_1", "get_weather", {})]
    upstream.script(
        Reply.json(message(content, stop_reason="tool_use", usage=usage(9, 4))),
        error_reply(200, "overloaded_error", "Overloaded"),
    )
    chunks = await collect(provider.stream(ask()))
    assert len(chunks) == 1
    only = chunks[0]
    assert (only.role, only.text, only.finish_reason) == ("assistant", "Checking.", "tool_calls")
    assert only.tool_calls is not None and only.tool_calls[0].arguments == "{}"
    assert only.usage is not None and only.usage.output_tokens == 4
    with pytest.raises(ProviderUnavailable):
        await anext(provider.stream(ask()))


async def test_early_exit_closes_the_upstream_connection(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    events = [message_start(), block_start(0, text_block(""))]
    events += [text_delta(0, f"word{n} ") for n in range(50)]
    upstream.script(stream_reply(events, chunk_delay=0.02))
    stream = provider.stream(ask())
    first = await anext(stream)
    assert first.text == "word0 "
    await stream.aclose()  # type: ignore[attr-defined]
    await upstream.wait_for(lambda: upstream.requests[0].disconnected)


# -- models and health --------------------------------------------------------------------------


async def test_list_models_follows_the_pages(
    provider: AnthropicProvider, upstream: AnthropicUpstream
) -> None:
    upstream.script(
        Reply.json(models_page(["claude-opus-4-5", "claude-sonnet-4-5"], has_more=True)),
        Reply.json(models_page(["claude-haiku-4-5"])),
    )
    assert await provider.list_models() == [
        "claude-opus-4-5",
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
    ]
    first, second = upstream.requests
    assert (first.method, first.path, first.query) == ("GET", "/v1/models", "limit=1000")
    assert second.query == "limit=1000&after_id=claude-sonnet-4-5"
    assert first.headers["x-api-key"] == "sk-ant-test"


async def test_health_check(provider: AnthropicProvider, upstream: AnthropicUpstream) -> None:
    await provider.health_check()
    upstream.script(error_reply(401, "authentication_error", "invalid x-api-key"))
    with pytest.raises(UpstreamAuthenticationError):
        await provider.health_check()


async def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = AnthropicProvider(
        "claude", AnthropicSettings(base_url=f"http://127.0.0.1:{port}", api_key="k")
    )
    with pytest.raises(ProviderUnavailable):
        await adapter.chat(ask())
    with pytest.raises(ProviderUnavailable):
        await collect(adapter.stream(ask()))
    await adapter.aclose()


def test_capabilities() -> None:
    capabilities = AnthropicProvider.capabilities
    assert capabilities.tools and capabilities.vision and capabilities.json_mode
    assert capabilities.stream and capabilities.list_models
    assert not capabilities.embeddings
