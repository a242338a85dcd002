"""The semantic cache: a request differing only in the wording of its last user message is
answered from the cache (MiniLM, the local embedding model, through the Gateway's own embed
path), never across tenants or contexts, in memory and in Redis, and an embedding that fails
leaves the request to be served as a miss."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.cache.vectors import best_match, semantic_text, unit
from switchyard.errors import ConfigError
from switchyard.records.record import RequestRecord
from switchyard.types import ChatRequest, Principal
from tests.cache.conftest import REDIS_URL
from tests.e2e.served import serve

LOCAL = all(
    importlib.util.find_spec(name) is not None for name in ("numpy", "tokenizers", "safetensors")
)
needs_minilm = pytest.mark.skipif(
    not LOCAL and os.environ.get("CI") != "true", reason="the local extra is not installed"
)

ASKED: Any = [{"role": "user", "content": "How do I reset my password?"}]
REWORDED: Any = [{"role": "user", "content": "how can I reset my password"}]
OTHER: Any = [{"role": "user", "content": "What is the capital of France?"}]


def config(cache: dict[str, Any] | None = None, **semantic: Any) -> dict[str, Any]:
    return {
        "providers": {"f": {"type": "fake"}, "local": {"type": "local", "preload": False}},
        "models": [
            {
                "name": "smart",
                "cache": {"semantic": {"threshold": 0.8, "embedding_model": "emb", **semantic}},
                "deployments": [{"provider": "f", "model": "m"}],
            },
            {"name": "exact", "deployments": [{"provider": "f", "model": "m"}]},
            {"name": "emb", "deployments": [{"provider": "local", "model": "all-minilm-l6-v2"}]},
        ],
        "router": {"retries": 0},
        "cache": cache if cache is not None else {},
    }


class Records:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


def test_what_is_compared_is_the_trailing_user_turn_in_its_context() -> None:
    request = ChatRequest.model_validate(
        {
            "model": "m",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
                {"role": "user", "content": [{"type": "text", "text": "d"}]},
            ],
        }
    )
    found = semantic_text(request)
    assert found is not None
    text, context = found
    assert text == "c\nd" and [m.role for m in context.messages] == ["system", "user", "assistant"]
    data = request.model_dump(exclude_none=True)
    data["messages"][-1]["content"].append({"type": "image", "url": "https://x/y.png"})
    with_image = ChatRequest.model_validate(data)
    assert semantic_text(with_image) is None
    tool_last = ChatRequest.model_validate(
        {"model": "m", "messages": [{"role": "tool", "content": "42", "tool_call_id": "c"}]}
    )
    assert semantic_text(tool_last) is None


def test_the_best_match_above_the_threshold_wins() -> None:
    a, b, c = unit([1.0, 0.0]), unit([0.8, 0.6]), unit([0.0, 1.0])
    assert a is not None and b is not None and c is not None
    assert best_match(a, [("b", b), ("c", c)], 0.75) == ("b", pytest.approx(0.8))
    assert best_match(a, [("b", b), ("c", c)], 0.9) is None
    assert best_match(a, [("short", unit([1.0, 0.0, 0.0]))], 0.1) is None  # type: ignore[list-item]
    assert unit([0.0, 0.0]) is None


def test_the_embedding_model_must_be_configured_and_the_alias_needs_a_cache_section() -> None:
    with pytest.raises(ConfigError) as caught:
        Gateway.from_config(config(embedding_model="nope"))
    assert caught.value.problems == [
        ("models[0].cache.semantic.embedding_model", "unknown alias 'nope'")
    ]
    cfg = config()
    del cfg["cache"]
    with pytest.raises(ConfigError, match="needs a cache section"):
        Gateway.from_config(cfg)


async def semantic_round(gateway: Gateway) -> None:
    acme, globex = Principal("a", tenant="acme"), Principal("g", tenant="globex")
    first = await gateway.chat(model="smart", messages=ASKED, principal=acme)
    assert first.cache_status == "miss" and first.text == "How do I reset my password?"
    similar = await gateway.chat(model="smart", messages=REWORDED, principal=acme)
    assert similar.cache_status == "hit"
    assert similar.text == first.text  # the fake echoes: this is the stored answer
    assert similar.cache_similarity is not None and 0.8 <= similar.cache_similarity < 1.0
    stream = gateway.stream(model="smart", messages=REWORDED, principal=acme)
    text = "".join([c.text or "" async for c in stream])
    assert stream.cache_status == "hit" and text == first.text
    assert stream.cache_similarity == pytest.approx(similar.cache_similarity, abs=1e-4)
    # never across tenants, nor for an unrelated question or another context
    assert (await gateway.chat(model="smart", messages=REWORDED, principal=globex)).text == (
        "how can I reset my password"
    )
    unrelated = await gateway.chat(model="smart", messages=OTHER, principal=acme)
    assert unrelated.cache_status == "miss" and unrelated.cache_similarity is None
    briefly: Any = [{"role": "system", "content": "Answer in French."}, *REWORDED]
    assert (await gateway.chat(model="smart", messages=briefly, principal=acme)).cache_status == (
        "miss"
    )
    other_sampling = await gateway.chat(
        model="smart", messages=REWORDED, principal=acme, temperature=1.5
    )
    assert other_sampling.cache_status == "miss"
    # an exact-only alias is never answered semantically
    await gateway.chat(model="exact", messages=ASKED, principal=acme)
    assert (await gateway.chat(model="exact", messages=REWORDED, principal=acme)).cache_status == (
        "miss"
    )


@needs_minilm
async def test_a_reworded_question_is_answered_from_the_memory_cache() -> None:
    sink = Records()
    async with Gateway(Gateway.from_config(config()).config, sinks=[sink]) as gateway:
        await semantic_round(gateway)
        assert gateway.cache is not None
        stats = await gateway.cache.stats("acme", every=False)
        assert stats.stats.hits == 2  # the plain and the streamed similar requests
    embeds = [r for r in sink.records if r.kind == "embed"]
    assert embeds and all(r.alias == "emb" and r.provider == "local" for r in embeds)
    hits = [r for r in sink.records if r.cache_hit]
    assert len(hits) == 2 and {r.principal.tenant for r in hits} == {"acme"}


@needs_minilm
async def test_a_reworded_question_is_answered_from_redis(cache_prefix: str) -> None:
    cache = {"backend": "redis", "url": REDIS_URL, "prefix": cache_prefix}
    async with Gateway.from_config(config(cache)) as gateway:
        await semantic_round(gateway)
        assert gateway.cache is not None
        await gateway.cache.clear(alias="smart")
        acme = Principal("a", tenant="acme")
        again = await gateway.chat(model="smart", messages=REWORDED, principal=acme)
        assert again.cache_status == "miss"  # the vectors went with the entries


@needs_minilm
async def test_vectors_per_context_are_bounded(cache_prefix: str) -> None:
    for cache in ({}, {"backend": "redis", "url": REDIS_URL, "prefix": cache_prefix}):
        async with Gateway.from_config(config(cache, max_entries=2)) as gateway:
            for question in (ASKED, OTHER, [{"role": "user", "content": "Tell me a joke"}]):
                await gateway.chat(model="smart", messages=question)
            reworded_other: Any = [{"role": "user", "content": "what's the capital of France"}]
            answer = await gateway.chat(model="smart", messages=reworded_other)
            assert answer.cache_status == "hit", cache
            # the oldest vector went: its reworded question is no longer matched
            assert (await gateway.chat(model="smart", messages=REWORDED)).cache_status == "miss"


async def test_an_embedding_that_fails_leaves_an_exact_miss() -> None:
    cfg = config()
    cfg["providers"]["down"] = {"type": "fake", "failure": {"status": 500}}
    cfg["models"][2] = {"name": "emb", "deployments": [{"provider": "down", "model": "e"}]}
    async with Gateway.from_config(cfg) as gateway:
        first = await gateway.chat(model="smart", messages=ASKED)
        assert first.cache_status == "miss" and first.text == "How do I reset my password?"
        assert (await gateway.chat(model="smart", messages=REWORDED)).cache_status == "miss"
        assert (await gateway.chat(model="smart", messages=ASKED)).cache_status == "hit"


@needs_minilm
def test_the_similarity_header_over_http() -> None:
    with serve(config()) as served:
        client = served.client()
        client.chat.completions.create(model="smart", messages=ASKED)
        raw = client.chat.completions.with_raw_response.create(model="smart", messages=REWORDED)
        assert raw.headers["x-switchyard-cache"] == "hit"
        assert 0.8 <= float(raw.headers["x-switchyard-cache-similarity"]) < 1.0
        raw = client.chat.completions.with_raw_response.create(model="smart", messages=OTHER)
        assert raw.headers["x-switchyard-cache"] == "miss"
        assert "x-switchyard-cache-similarity" not in raw.headers
