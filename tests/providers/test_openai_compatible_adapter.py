"""The OpenAI-compatible presets as adapters: every row of the table built from config and
seen on the wire by a fake upstream on 127.0.0.1, and each preset's quirks end to end."""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from switchyard.config.load import load_config
from switchyard.errors import (
    InvalidRequest,
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.providers.base import Provider
from switchyard.providers.openai_compatible.adapter import PresetProvider
from switchyard.providers.openai_compatible.presets import PRESETS, PRESETS_BY_TYPE
from switchyard.providers.openai_compatible.settings import PresetConfig
from switchyard.providers.registry import ADAPTERS, build_provider, provider_class
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    JsonSchemaFormat,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
)
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply

WEATHER = Tool(name="get_weather", parameters={"type": "object", "properties": {}})


def ask(model: str = "m", **fields: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=[Message(role="user", content="hi")], **fields)


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


def chunk(delta: dict[str, Any], finish: str | None = None, **top: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    envelope = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return {**envelope, **top, "choices": [choice]}


def completion(content: str, **message: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


# -- every preset: config -> provider -> the request on the wire ---------------------------------

# type -> (config fields beyond type/api_key with {root} for the fake's URL, the request path and
# query the fake must see, the auth header and its value, the default chat URL or None).
EXPECTED: dict[str, tuple[dict[str, Any], str, str, tuple[str, str], str | None]] = {
    "openrouter": (
        {"base_url": "{root}/api/v1"},
        "/api/v1/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        "https://openrouter.ai/api/v1/chat/completions",
    ),
    "deepseek": (
        {"base_url": "{root}"},
        "/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        "https://api.deepseek.com/chat/completions",
    ),
    "mistral": (
        {"base_url": "{root}/v1"},
        "/v1/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        "https://api.mistral.ai/v1/chat/completions",
    ),
    "groq": (
        {"base_url": "{root}/openai/v1"},
        "/openai/v1/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        "https://api.groq.com/openai/v1/chat/completions",
    ),
    "together": (
        {"base_url": "{root}/v1"},
        "/v1/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        "https://api.together.xyz/v1/chat/completions",
    ),
    "azure_openai": (
        {"endpoint": "{root}"},
        "/openai/deployments/m/chat/completions",
        "api-version=2024-12-01-preview",
        ("api-key", "k-1"),
        None,
    ),
    "vllm": (
        {"base_url": "{root}/v1"},
        "/v1/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        None,
    ),
    "huggingface": (
        {"base_url": "{root}/v1"},
        "/v1/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        "https://router.huggingface.co/v1/chat/completions",
    ),
    "tgi": (
        {"base_url": "{root}"},
        "/v1/chat/completions",
        "",
        ("authorization", "Bearer k-1"),
        None,
    ),
}


def test_every_preset_has_an_expectation_and_a_registry_row() -> None:
    assert set(EXPECTED) == {preset.type for preset in PRESETS}
    for preset in PRESETS:
        assert ADAPTERS[preset.type][0] is preset.settings
        cls = provider_class(preset.type)
        assert issubclass(cls, PresetProvider) and cls.__name__ == preset.class_name
        assert cls.capabilities == preset.capabilities and cls.preset is preset


def test_the_config_union_is_the_preset_table() -> None:
    assert set(typing.get_args(PresetConfig)) == {preset.settings for preset in PRESETS}


@pytest.mark.parametrize("type_name", sorted(EXPECTED))
async def test_every_preset_builds_from_config_and_reaches_its_url(
    type_name: str, openai_upstream: OpenAIUpstream
) -> None:
    fields, path, query, (header, value), default_url = EXPECTED[type_name]
    root = f"http://127.0.0.1:{openai_upstream.port}"
    entry = {key: item.format(root=root) for key, item in fields.items()}
    config = load_config({"providers": {"p": {"type": type_name, "api_key": "k-1", **entry}}})
    provider = build_provider("p", config.providers["p"])
    try:
        assert type(provider).__name__ == PRESETS_BY_TYPE[type_name].class_name
        response = await provider.chat(ask())
        assert response.text == "hi"
        sent = openai_upstream.last_request
        assert (sent.method, sent.path, sent.query) == ("POST", path, query)
        assert sent.headers[header] == value
        assert sent.json["model"] == "m"
    finally:
        await provider.aclose()
    if default_url is not None:
        settings = PRESETS_BY_TYPE[type_name].settings(api_key="k")  # type: ignore[call-arg]
        preset = PRESETS_BY_TYPE[type_name]
        assert settings.api_url(preset, "/chat/completions", "m") == default_url
        assert urlsplit(default_url).path == path


def test_unknown_config_keys_are_refused_per_preset() -> None:
    azure = {"type": "azure_openai", "endpoint": "https://r", "deployment_id": "x"}
    with pytest.raises(ValueError, match=r"providers\.p\.deployment_id: unknown key"):
        load_config({"providers": {"p": azure}})
    with pytest.raises(ValueError, match=r"providers\.p\.base_url"):
        load_config({"providers": {"p": {"type": "vllm"}}})


# -- adapters against the fake -----------------------------------------------------------------


def build(type_name: str, base_url: str, **fields: Any) -> Provider[Any]:
    settings = PRESETS_BY_TYPE[type_name].settings(base_url=base_url, api_key="k", **fields)
    return build_provider(type_name, settings)


async def test_openrouter_headers_and_routing_options_reach_it(
    openai_upstream: OpenAIUpstream,
) -> None:
    provider = build(
        "openrouter", openai_upstream.base_url, http_referer="https://app.example", x_title="App"
    )
    routing = {"provider": {"order": ["together"]}, "models": ["a/b", "c/d"], "route": "fallback"}
    await provider.chat(ask(extra={**routing, "transforms": ["middle-out"]}))
    sent = openai_upstream.last_request
    assert sent.headers["http-referer"] == "https://app.example"
    assert sent.headers["x-title"] == "App"
    assert {key: sent.json[key] for key in routing} == routing
    assert sent.json["transforms"] == ["middle-out"]
    await provider.aclose()


async def test_openrouter_error_in_a_200_reply(openai_upstream: OpenAIUpstream) -> None:
    provider = build("openrouter", openai_upstream.base_url)
    openai_upstream.script(
        Reply.json({"error": {"code": 402, "message": "Insufficient credits", "metadata": {}}}),
        Reply.json({**completion(""), "error": {"code": 503, "message": "No provider"}}),
    )
    with pytest.raises(RateLimited, match="Insufficient credits"):
        await provider.chat(ask())
    with pytest.raises(ProviderUnavailable, match="No provider"):
        await provider.chat(ask())
    await provider.aclose()


async def test_openrouter_error_mid_stream_after_comments(openai_upstream: OpenAIUpstream) -> None:
    """OpenRouter keeps idle streams alive with SSE comments and reports a failure after the
    first tokens as a chunk with an ``error`` field and ``finish_reason: error``."""
    error_chunk = chunk(
        {"content": ""},
        "error",
        error={"code": "server_error", "message": "Provider disconnected unexpectedly"},
    )
    raw = b": OPENROUTER PROCESSING\n\n"
    raw += b"data: " + orjson.dumps(chunk({"role": "assistant", "content": "Once"})) + b"\n\n"
    raw += b": OPENROUTER PROCESSING\n\n"
    raw += b"data: " + orjson.dumps(error_chunk) + b"\n\n"
    openai_upstream.script(Reply.raw_bytes(raw, content_type="text/event-stream"))
    provider = build("openrouter", openai_upstream.base_url)
    received: list[str] = []
    with pytest.raises(ProviderUnavailable, match="Provider disconnected"):
        async for piece in provider.stream(ask()):
            received.append(piece.text or "")
    assert received == ["Once"]
    await provider.aclose()


async def test_deepseek_streams_reasoning_and_gets_it_back(openai_upstream: OpenAIUpstream) -> None:
    provider = build("deepseek", openai_upstream.base_url)
    openai_upstream.script(
        Reply.stream(
            [
                chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
                chunk({"content": None, "reasoning_content": "The user"}),
                chunk({"content": None, "reasoning_content": " greets me."}),
                chunk({"content": "Hello", "reasoning_content": None}),
                chunk({"content": ""}, "stop"),
            ]
        )
    )
    chunks = await collect(provider.stream(ask("deepseek-reasoner")))
    assert "".join(c.reasoning or "" for c in chunks) == "The user greets me."
    assert "".join(c.text or "" for c in chunks) == "Hello"

    call = ToolCall(id="call_0", name="get_weather", arguments="{}")
    turn = Message(role="assistant", tool_calls=[call], reasoning="Use the tool.")
    follow_up = ChatRequest(
        model="deepseek-reasoner",
        messages=[
            Message(role="user", content="Weather?"),
            turn,
            Message(role="tool", tool_call_id="call_0", content="sunny"),
        ],
        tools=[WEATHER],
    )
    await provider.chat(follow_up)
    assert openai_upstream.last_request.json["messages"][1]["reasoning_content"] == "Use the tool."
    await provider.aclose()


async def test_deepseek_refuses_seed_before_sending(openai_upstream: OpenAIUpstream) -> None:
    provider = build("deepseek", openai_upstream.base_url)
    with pytest.raises(InvalidRequest, match="seed"):
        await provider.chat(ask(seed=1))
    with pytest.raises(InvalidRequest, match="seed"):
        await anext(provider.stream(ask(seed=1)))
    assert openai_upstream.requests == []
    dropping = build("deepseek", openai_upstream.base_url, drop_unsupported=True)
    await dropping.chat(ask(seed=1))
    assert "seed" not in openai_upstream.last_request.json
    await provider.aclose()
    await dropping.aclose()


def schema_ask() -> ChatRequest:
    fmt = ResponseFormat(
        type="json_schema", json_schema=JsonSchemaFormat(name="a", schema={"type": "object"})
    )
    return ask(response_format=fmt)


async def test_deepseek_json_schema_reply_must_parse(openai_upstream: OpenAIUpstream) -> None:
    provider = build("deepseek", openai_upstream.base_url)
    cut_short = completion('{"capital": "Pa')
    cut_short["choices"][0]["finish_reason"] = "length"
    openai_upstream.script(
        Reply.json(completion('{"capital": "Paris"}')),
        Reply.json(completion("Paris")),
        Reply.stream([chunk({"content": "Par"}), chunk({"content": "is"}, "stop")]),
        Reply.json(cut_short),
    )
    response = await provider.chat(schema_ask())
    assert response.text == '{"capital": "Paris"}'
    assert openai_upstream.last_request.json["response_format"] == {"type": "json_object"}
    with pytest.raises(UpstreamProtocolError):
        await provider.chat(schema_ask())
    received: list[str] = []
    with pytest.raises(UpstreamProtocolError):
        async for piece in provider.stream(schema_ask()):
            received.append(piece.text or "")
    assert "".join(received) == "Paris"
    truncated = await provider.chat(schema_ask())  # the caller's max_tokens: left as it is
    assert truncated.choices[0].finish_reason == "length"
    await provider.aclose()


async def test_mistral_body_on_the_wire(openai_upstream: OpenAIUpstream) -> None:
    provider = build("mistral", openai_upstream.base_url)
    await collect(provider.stream(ask(seed=3, user="u", tools=[WEATHER], tool_choice="required")))
    sent = openai_upstream.last_request.json
    assert sent["tool_choice"] == "any" and sent["random_seed"] == 3
    assert not {"seed", "user", "stream_options"} & set(sent)
    await provider.aclose()


async def test_azure_v1_api(openai_upstream: OpenAIUpstream) -> None:
    root = f"http://127.0.0.1:{openai_upstream.port}"
    settings = PRESETS_BY_TYPE["azure_openai"].settings(  # type: ignore[call-arg]
        endpoint=root, api_version="v1", api_key="az"
    )
    provider = build_provider("azure", settings)
    await provider.chat(ask("gpt-4o-prod", max_tokens=4))
    sent = openai_upstream.last_request
    assert (sent.path, sent.query) == ("/openai/v1/chat/completions", "")
    assert sent.json["model"] == "gpt-4o-prod" and sent.json["max_completion_tokens"] == 4
    await provider.aclose()


async def test_together_lists_models_from_a_bare_array(openai_upstream: OpenAIUpstream) -> None:
    provider = build("together", openai_upstream.base_url)
    openai_upstream.script(
        Reply.json(
            [
                {
                    "id": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
                    "object": "model",
                    "type": "chat",
                },
                {"id": "BAAI/bge-large-en-v1.5", "object": "model", "type": "embedding"},
            ]
        )
    )
    assert await provider.list_models() == [
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "BAAI/bge-large-en-v1.5",
    ]
    await provider.aclose()


@pytest.mark.parametrize(
    ("api_version", "path", "query"),
    [
        ("2024-12-01-preview", "/openai/models", "api-version=2024-12-01-preview"),
        ("v1", "/openai/v1/models", ""),
    ],
)
async def test_azure_health_check_asks_the_resource_its_models(
    openai_upstream: OpenAIUpstream, api_version: str, path: str, query: str
) -> None:
    """Azure's model list is not its deployments (so ``list_models`` is not declared), but
    answering it proves the endpoint is up and takes the key: never healthy without asking."""
    root = f"http://127.0.0.1:{openai_upstream.port}"
    settings = PRESETS_BY_TYPE["azure_openai"].settings(  # type: ignore[call-arg]
        endpoint=root, deployment="gpt-4o-prod", api_version=api_version, api_key="az"
    )
    provider = build_provider("azure", settings)
    assert await provider.health_check() == "healthy"
    sent = openai_upstream.last_request
    assert (sent.method, sent.path, sent.query) == ("GET", path, query)
    assert sent.headers["api-key"] == "az"
    openai_upstream.script(Reply.error(401, "Access denied due to invalid subscription key"))
    with pytest.raises(UpstreamAuthenticationError):
        await provider.health_check()
    await provider.aclose()
