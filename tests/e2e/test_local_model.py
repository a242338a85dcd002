"""The embedded default, for real: the official `openai` and `anthropic` SDKs -> the served
gateway on its default config -> SmolLM2 in llama.cpp and MiniLM in numpy. A few tokens at
temperature 0."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from switchyard.config.load import load_config
from tests.e2e.served import ServedGateway, serve
from tests.local_model import needs_local_model

pytestmark = needs_local_model


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedGateway]:
    home = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))  # the defaults' SQLite file lands there
    try:
        with serve(load_config(None, env={})) as gateway:  # the embedded defaults, exactly
            yield gateway
    finally:
        os.chdir(home)


def test_a_real_streamed_completion(served: ServedGateway) -> None:
    client = served.client()
    raw = client.chat.completions.with_raw_response.create(
        model="local",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
        stream_options={"include_usage": True},
        temperature=0,
        max_tokens=8,
    )
    assert raw.headers["x-switchyard-provider"] == "local"
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 5 and 0 < usage.completion_tokens <= 8
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish in (["length"], ["stop"])


def test_real_embeddings(served: ServedGateway) -> None:
    client = served.client()
    result = client.embeddings.create(
        model="local-embed", input=["A man is eating food.", "A man is eating pasta.", "It rains."]
    )
    vectors = [d.embedding for d in result.data]
    assert [len(v) for v in vectors] == [384, 384, 384]

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2]) + 0.2


def test_tools_are_refused_by_name_on_the_local_model(served: ServedGateway) -> None:
    client = served.client()
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="local",
            messages=[{"role": "user", "content": "hi"}],
            tools=[
                {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
            ],
        )
    assert "tools" in caught.value.message and "local" in caught.value.message


# -- the same model through the Anthropic door ------------------------------------------------

ANTHROPIC_ASK: Any = [{"role": "user", "content": "What is the capital of France?"}]


def anthropic_client(served: ServedGateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=served.url, api_key="none", max_retries=0)


def test_a_real_message_through_the_anthropic_sdk(served: ServedGateway) -> None:
    client = anthropic_client(served)
    raw = client.messages.with_raw_response.create(
        model="local", max_tokens=8, system="Answer in one word.", messages=ANTHROPIC_ASK
    )
    assert raw.headers["x-switchyard-provider"] == "local"
    message = raw.parse()
    assert message.content[0].type == "text" and message.content[0].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens")
    prompt = message.usage.input_tokens + (message.usage.cache_read_input_tokens or 0)
    assert prompt > 5 and 0 < message.usage.output_tokens <= 8  # llama.cpp caches prompts


def test_a_real_streamed_message_through_the_anthropic_sdk(served: ServedGateway) -> None:
    client = anthropic_client(served)
    with client.messages.stream(model="local", max_tokens=8, messages=ANTHROPIC_ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.strip() and final.content[0].text == text  # type: ignore[union-attr]
    assert final.stop_reason in ("end_turn", "max_tokens")
    prompt = final.usage.input_tokens + (final.usage.cache_read_input_tokens or 0)
    assert prompt > 5 and 0 < final.usage.output_tokens <= 8


def test_count_tokens_through_the_anthropic_sdk(served: ServedGateway) -> None:
    assert (
        anthropic_client(served)
        .messages.count_tokens(model="local", messages=ANTHROPIC_ASK)
        .input_tokens
        > 5
    )
