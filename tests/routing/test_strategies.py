"""Each strategy's choice, deterministic under a seed, on the scripted `fake` provider."""

from __future__ import annotations

import random
from typing import Any

import pytest
from tests.fakes.gateway import fake_provider

from switchyard import ContextLengthExceeded, Gateway, InvalidRequest
from switchyard.providers.fake import FakeFailure
from switchyard.types import ImagePart, Message, TextPart, Tool

HELLO = [{"role": "user", "content": "hello"}]

# Three made-up models with known prices, quality and windows (catalog entries from config).
CATALOG = [
    {
        "name": "budget-1",
        "provider": "fake",
        "context_window": 1000,
        "prices": {"input": 0.1, "output": 0.4},
        "quality": 40,
        "capabilities": {"tools": False, "vision": False, "json_mode": True},
    },
    {
        "name": "mid-1",
        "provider": "fake",
        "context_window": 8000,
        "prices": {"input": 1.0, "output": 4.0},
        "quality": 70,
        "capabilities": {"tools": True, "vision": False, "json_mode": True},
    },
    {
        "name": "premium-1",
        "provider": "fake",
        "context_window": 200000,
        "prices": {"input": 10.0, "output": 40.0},
        "quality": 95,
        "capabilities": {"tools": True, "vision": True, "json_mode": True},
    },
]


def gateway(strategy: str, seed: int = 1, **alias: Any) -> Gateway:
    config = {
        "providers": {name: {"type": "fake", "reply": name} for name in ("b", "m", "p")},
        "models": [
            {
                "name": "pick",
                "strategy": strategy,
                **alias,
                "deployments": [
                    {"provider": "b", "model": "budget-1"},
                    {"provider": "m", "model": "mid-1"},
                    {"provider": "p", "model": "premium-1"},
                ],
            },
            {"name": "big", "deployments": [{"provider": "p", "model": "premium-1"}]},
        ],
        "catalog": {"models": CATALOG},
    }
    return Gateway.from_config(config, rng=random.Random(seed))


async def answer(gw: Gateway, **fields: Any) -> str:
    return (await gw.chat({"model": "pick", "messages": HELLO, **fields})).text


async def test_cheapest_picks_the_lowest_estimated_cost() -> None:
    assert await answer(gateway("cheapest")) == "b"


async def test_best_quality_picks_the_highest_score() -> None:
    assert await answer(gateway("best_quality")) == "p"


@pytest.mark.parametrize(("weight", "expected"), [(0.0, "p"), (1.0, "b"), (0.5, "m")])
async def test_auto_trades_cost_against_quality(weight: float, expected: str) -> None:
    assert await answer(gateway("auto", cost_weight=weight)) == expected


async def test_least_busy_avoids_deployments_with_requests_in_flight() -> None:
    gw = gateway("least_busy")
    gw.health.get("b/budget-1").in_flight = 3
    gw.health.get("m/mid-1").in_flight = 1
    assert await answer(gw) == "p"


async def test_fastest_tries_unmeasured_first_then_the_lowest_latency() -> None:
    gw = gateway("fastest", seed=3)
    for key, seconds in (("b/budget-1", 0.9), ("m/mid-1", 0.1), ("p/premium-1", 0.5)):
        gw.health.finished(key, ok=True, seconds=seconds)
    picks = [await answer(gw) for _ in range(200)]
    assert picks.count("m") > 170  # exploration sends a few elsewhere
    assert set(picks) - {"m"}, "exploration never happened"


async def test_fastest_is_deterministic_under_a_seed() -> None:
    runs = []
    for _ in range(2):
        gw = gateway("fastest", seed=11)
        for key, seconds in (("b/budget-1", 0.3), ("m/mid-1", 0.2), ("p/premium-1", 0.1)):
            gw.health.finished(key, ok=True, seconds=seconds)
        runs.append([await answer(gw) for _ in range(50)])
    assert runs[0] == runs[1]


async def test_weighted_is_deterministic_under_a_seed() -> None:
    runs = [[await answer(gateway("weighted", seed=5)) for _ in range(1)] for _ in range(2)]
    assert runs[0] == runs[1]


async def test_strategies_still_fail_over() -> None:
    gw = gateway("cheapest")
    provider = fake_provider(gw, "b")
    provider.script(FakeFailure(status=503))
    assert await answer(gw) == "m"


async def test_capability_filtering_skips_deployments_that_cannot_serve() -> None:
    gw = gateway("cheapest")
    tools = [Tool(name="lookup")]
    assert await answer(gw, tools=tools) == "m"  # budget-1 has no tools
    image = Message(role="user", content=[TextPart(text="what?"), ImagePart(url="https://x/y.png")])
    response = await gw.chat(model="pick", messages=[image])
    assert response.text == "p"  # only premium-1 sees images


async def test_context_window_filtering_uses_counted_tokens() -> None:
    gw = gateway("cheapest")
    long_prompt = [{"role": "user", "content": "word " * 1500}]  # about 1,500 tokens
    response = await gw.chat(model="pick", messages=long_prompt)
    assert response.text == "m"  # budget-1's window is 1,000


async def test_when_nothing_fits_a_400_says_why_for_each_deployment() -> None:
    gw = gateway("fallback")
    with pytest.raises(ContextLengthExceeded) as caught:
        await gw.chat(model="pick", messages=[{"role": "user", "content": "word " * 300_000}])
    message = str(caught.value)
    assert "budget-1" in message and "premium-1" in message and "context window" in message
    assert caught.value.status_code == 400
    with pytest.raises(InvalidRequest, match="does not accept images"):
        await gateway("fallback").chat(
            model="pick",
            messages=[Message(role="user", content=[ImagePart(url="https://x/y.png")])],
            tools=[Tool(name="t")],
            max_tokens=250_000,
        )


async def test_context_window_fallbacks_take_over_when_too_long() -> None:
    config = {
        "providers": {
            "b": {"type": "fake", "reply": "small"},
            "p": {"type": "fake", "reply": "big"},
        },
        "models": [
            {
                "name": "small",
                "context_window_fallbacks": ["big"],
                "deployments": [{"provider": "b", "model": "budget-1"}],
            },
            {"name": "big", "deployments": [{"provider": "p", "model": "premium-1"}]},
        ],
        "catalog": {"models": CATALOG},
    }
    gw = Gateway.from_config(config)
    long_prompt = [{"role": "user", "content": "word " * 2000}]
    assert (await gw.chat(model="small", messages=long_prompt)).text == "big"
    # and when the provider itself says the context is too long (our count was low)
    small = fake_provider(gw, "b")
    small.script(FakeFailure(status=400, body="context_length_exceeded"))
    original = small._fail

    async def too_long(failure: FakeFailure) -> None:
        raise ContextLengthExceeded("maximum context length exceeded", provider="b")

    small._fail = too_long  # type: ignore[method-assign]
    assert (await gw.chat(model="small", messages=HELLO)).text == "big"
    small._fail = original  # type: ignore[method-assign]


async def test_preferred_provider_goes_first() -> None:
    gw = gateway("cheapest")
    assert await answer(gw, prefer="p") == "p"
    assert await answer(gw) == "b"
