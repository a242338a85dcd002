"""Cost on every answer: ``x-switchyard-cost-usd`` on plain chat and embeddings answers,
``usage.cost`` in a stream's usage chunk, the same exact decimal in the usage row; worked out by
hand for payloads with cached and reasoning tokens, at catalog and at deployment prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from switchyard.types import Cost
from switchyard.types.usage import exact_usd, usd_text
from tests.databases import read_usage
from tests.e2e.served import serve
from tests.fakes.fixtures import fake_upstream_fixtures
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply

_server, upstream = fake_upstream_fixtures(OpenAIUpstream)
HELLO: Any = [{"role": "user", "content": "think hard"}]

# 120,000 prompt tokens of which 100,000 were read from the provider's cache; 3,000 completion
# tokens of which 1,000 were reasoning (reasoning is part of the completion: billed as output)
USAGE = {
    "prompt_tokens": 120_000,
    "completion_tokens": 3_000,
    "total_tokens": 123_000,
    "prompt_tokens_details": {"cached_tokens": 100_000, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 1_000, "audio_tokens": 0},
}
# gpt-4.1 in the catalog: $2.00 in, $0.50 cached in, $8.00 out per million tokens
#   20,000 x 2 + 100,000 x 0.5 + 3,000 x 8 = 40,000 + 50,000 + 24,000 = 114,000 / 1e6
CATALOG_COST = Decimal("0.114")
# the deployment's own prices: $1.25 in, $0.125 cached in, $10 out
#   20,000 x 1.25 + 100,000 x 0.125 + 3,000 x 10 = 25,000 + 12,500 + 30,000 = 67,500 / 1e6
DEPLOYMENT_PRICES = {"input": 1.25, "cached_input": 0.125, "output": 10.0}
DEPLOYMENT_COST = Decimal("0.0675")


def config(base_url: str, storage_url: str) -> dict[str, Any]:
    return {
        "providers": {"up": {"type": "openai", "base_url": base_url, "api_key": "k"}},
        "models": [
            {"name": "catalog", "deployments": [{"provider": "up", "model": "gpt-4.1"}]},
            {
                "name": "priced",
                "deployments": [
                    {"provider": "up", "model": "house-model", "prices": DEPLOYMENT_PRICES}
                ],
            },
            {"name": "unpriced", "deployments": [{"provider": "up", "model": "house-model"}]},
            {
                "name": "vectors",
                "deployments": [
                    {"provider": "up", "model": "house-embed", "prices": {"input": 0.02}}
                ],
            },
        ],
        "router": {"retries": 0},
        "storage": {"url": storage_url, "flush_seconds": 0.05},
    }


def completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-cost",
        "object": "chat.completion",
        "created": 1755137933,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "42", "refusal": None},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


def streamed(model: str) -> Reply:
    envelope = {
        "id": "chatcmpl-cost",
        "object": "chat.completion.chunk",
        "created": 1755137933,
        "model": model,
    }
    return Reply.stream(
        [
            {**envelope, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "4"}}]},
            {**envelope, "choices": [{"index": 0, "delta": {"content": "2"}}]},
            {**envelope, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {**envelope, "choices": [], "usage": USAGE},
        ]
    )


async def test_the_cost_of_cached_and_reasoning_tokens_in_the_header_stream_and_row(
    upstream: OpenAIUpstream, storage_url: str
) -> None:
    upstream.script(
        Reply.json(completion("gpt-4.1")),
        Reply.json(completion("house-model")),
        streamed("gpt-4.1"),
        Reply.json(completion("house-model")),
    )
    with serve(config(upstream.base_url, storage_url)) as served:
        client = served.client()
        at_catalog = client.chat.completions.with_raw_response.create(
            model="catalog", messages=HELLO
        )
        assert at_catalog.headers["x-switchyard-cost-usd"] == "0.114"
        reply = at_catalog.parse()
        assert reply.usage is not None and reply.usage.prompt_tokens_details is not None
        assert reply.usage.prompt_tokens_details.cached_tokens == 100_000

        at_deployment = client.chat.completions.with_raw_response.create(
            model="priced", messages=HELLO
        )
        assert at_deployment.headers["x-switchyard-cost-usd"] == "0.0675"

        chunks = list(
            client.chat.completions.create(
                model="catalog",
                messages=HELLO,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        usage = chunks[-1].usage
        assert usage is not None and usage.completion_tokens_details is not None
        assert usage.completion_tokens_details.reasoning_tokens == 1_000
        assert usage.model_extra is not None and usage.model_extra["cost"] == 0.114
        assert all(c.usage is None for c in chunks[:-1])

        unpriced = client.chat.completions.with_raw_response.create(
            model="unpriced", messages=HELLO
        )
        assert "x-switchyard-cost-usd" not in unpriced.headers  # never a fake 0
        assert unpriced.headers["x-switchyard-provider"] == "up"
    rows, _ = await read_usage(storage_url)
    costs = [(r["alias"], r["kind"], r["cost_usd"]) for r in rows]
    assert costs == [
        ("catalog", "chat", CATALOG_COST),
        ("priced", "chat", DEPLOYMENT_COST),
        ("catalog", "stream", CATALOG_COST),
        ("unpriced", "chat", None),
    ]
    for row in rows:
        assert (row["input_tokens"], row["cached_tokens"]) == (120_000, 100_000)
        assert (row["output_tokens"], row["reasoning_tokens"]) == (3_000, 1_000)


async def test_a_stream_without_usage_asked_carries_no_cost(
    upstream: OpenAIUpstream, sqlite_url: str
) -> None:
    upstream.script(streamed("gpt-4.1"))
    with serve(config(upstream.base_url, sqlite_url)) as served:
        chunks = list(
            served.client().chat.completions.create(model="catalog", messages=HELLO, stream=True)
        )
    assert all(c.usage is None for c in chunks)
    rows, _ = await read_usage(sqlite_url)
    assert [r["cost_usd"] for r in rows] == [CATALOG_COST]  # recorded all the same


async def test_embeddings_answer_with_their_cost(upstream: OpenAIUpstream, sqlite_url: str) -> None:
    with serve(config(upstream.base_url, sqlite_url)) as served:
        raw = served.client().embeddings.with_raw_response.create(
            model="vectors", input=["one two three", "four five"]
        )
        tokens = raw.parse().usage.prompt_tokens
        assert tokens == 5  # the fake upstream counts words
        # 5 x $0.02 / 1e6
        assert raw.headers["x-switchyard-cost-usd"] == "0.0000001"
    rows, _ = await read_usage(sqlite_url)
    assert [(r["kind"], r["cost_usd"]) for r in rows] == [("embed", Decimal("0.0000001"))]


@pytest.mark.parametrize(
    ("total", "text"),
    [
        (0.114, "0.114"),
        (1.23e-05, "0.0000123"),  # no exponent
        (0.1 + 0.2, "0.3"),  # the float's noise is below the ledger's 10 places
        (250.0, "250"),
        (0.0, "0"),
    ],
)
def test_the_cost_text_is_the_ledgers_decimal(total: float, text: str) -> None:
    cost = Cost(total=total)
    assert usd_text(cost.exact_total) == text
    assert cost.exact_total == exact_usd(total) == Decimal(text)
