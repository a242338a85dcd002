"""The fake OpenAI upstream speaks well enough for the official (synchronous) SDK, so the
gateway's end-to-end tests can trust it; and its scripting does what it says."""

from __future__ import annotations

import openai
import pytest

from tests.fakes.cassettes import load_cassette
from tests.fakes.openai_upstream import OpenAIUpstream, Reply, embedding_for


@pytest.fixture
def client(openai_upstream: OpenAIUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=openai_upstream.base_url, api_key="sk-fake", max_retries=0)


def test_default_chat_echoes_and_is_valid(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "echo me"}]
    )
    assert completion.choices[0].message.content == "echo me"
    assert completion.model == "gpt-4o-mini"
    assert openai_upstream.last_request.headers["authorization"] == "Bearer sk-fake"


def test_default_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3


def test_default_embeddings_and_models(client: openai.OpenAI) -> None:
    # The SDK asks for base64 by default and decodes it.
    result = client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], dimensions=4
    )
    assert [item.embedding for item in result.data] == [
        embedding_for("a", 4),
        embedding_for("b", 4),
    ]
    assert [model.id for model in client.models.list()] == [
        "gpt-4o-mini",
        "gpt-5-nano",
        "text-embedding-3-small",
    ]


def test_scripted_errors_reach_the_sdk_as_its_own_exceptions(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(
        Reply.error(429, "slow down", type="requests", code="rate_limit_exceeded"),
        Reply.from_cassette(load_cassette("chat-unknown-model")),
    )
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_recorded_stream_replays_through_the_sdk(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.from_cassette(load_cassette("chat-streaming")))
    stream = client.chat.completions.create(
        model="gpt-5-nano", messages=[{"role": "user", "content": "Hello!"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text.startswith("Hi there! How can I help today?")


def test_requests_are_recorded(client: openai.OpenAI, openai_upstream: OpenAIUpstream) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], temperature=0.1
    )
    recorded = openai_upstream.requests[0]
    assert (recorded.method, recorded.path) == ("POST", "/v1/chat/completions")
    assert recorded.json["temperature"] == 0.1
    assert recorded.completed and not recorded.disconnected
