"""The embedded default, for real: the official `openai` SDK -> the served gateway on its
default config -> SmolLM2 in llama.cpp and MiniLM in numpy. A few tokens at temperature 0."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import openai
import pytest

from switchyard.config.load import load_config
from tests.e2e.served import ServedGateway, serve

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
