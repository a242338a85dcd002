"""The official `anthropic` SDK -> the served gateway on its default config -> the local model
(SmolLM2 in llama.cpp): plain and streamed messages and count_tokens, a few tokens at
temperature 0."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import anthropic
import pytest

from switchyard.config.load import load_config
from tests.e2e.served import serve

INSTALLED = all(
    importlib.util.find_spec(name) is not None
    for name in ("xllamacpp", "numpy", "tokenizers", "safetensors")
)
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not INSTALLED and os.environ.get("CI") != "true",
        reason="the local extra is not installed: pip install 'switchyard[local]'",
    ),
]
ASK = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[anthropic.Anthropic]:
    home = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))  # the defaults' SQLite file lands there
    try:
        with serve(load_config(None, env={})) as served:  # the embedded defaults, exactly
            yield anthropic.Anthropic(base_url=served.url, api_key="none", max_retries=0)
    finally:
        os.chdir(home)


def test_a_real_message(client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(
        model="local", max_tokens=8, system="Answer in one word.", messages=ASK
    )
    assert raw.headers["x-switchyard-provider"] == "local"
    message = raw.parse()
    assert message.content[0].type == "text" and message.content[0].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert message.usage.input_tokens > 5 and 0 < message.usage.output_tokens <= 8


def test_a_real_streamed_message(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="local", max_tokens=8, messages=ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.strip() and final.content[0].text == text  # type: ignore[union-attr]
    assert final.stop_reason in ("end_turn", "max_tokens")
    assert final.usage.input_tokens > 5 and 0 < final.usage.output_tokens <= 8


def test_count_tokens(client: anthropic.Anthropic) -> None:
    assert client.messages.count_tokens(model="local", messages=ASK).input_tokens > 5
