"""The metric families of the cache and the limits: ``llm_cache_requests_total{result}``,
``llm_rate_limited_total{level}`` and ``llm_budget_rejections_total{level}`` count exactly what
the requests met (memory backends, the library)."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard import Gateway
from switchyard.errors import LimitExceeded, QuotaExceeded
from switchyard.types import Grant, Limits, Principal

HELLO: Any = [{"role": "user", "content": "hello"}]
PRICES = {"input": 0.0, "output": 1000.0}  # 4 words out at $1000 per million: $0.004


def config(tmp_url: str) -> dict[str, Any]:
    return {
        "providers": {"f": {"type": "fake", "reply": "one two three four"}},
        "models": [
            {"name": "smart", "deployments": [{"provider": "f", "model": "m", "prices": PRICES}]},
            {
                "name": "capped",
                "budget": {"usd": "0.006", "period": "day"},
                "deployments": [{"provider": "f", "model": "m", "prices": PRICES}],
            },
        ],
        "cache": {"backend": "memory"},
        "limits": {"backend": "memory", "global": {"rpm": 1000}},
        "storage": {"url": tmp_url, "flush_seconds": 0.05},
    }


def sample(gateway: Gateway, name: str, **labels: str) -> float:
    assert gateway.metrics is not None
    return gateway.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_cache_results_and_refusals_are_counted_by_kind(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}"
    async with Gateway.from_config(config(url)) as gateway:
        await gateway.chat(model="smart", messages=HELLO)  # miss
        await gateway.chat(model="smart", messages=HELLO)  # hit
        await gateway.chat(model="smart", messages=HELLO, cache={"no_cache": True})  # skip
        stream = gateway.stream(model="smart", messages=HELLO)  # a streamed hit
        assert "".join([c.text or "" async for c in stream]) == "one two three four"
        assert sample(gateway, "llm_cache_requests_total", result="hit") == 2
        assert sample(gateway, "llm_cache_requests_total", result="miss") == 1
        assert sample(gateway, "llm_cache_requests_total", result="skip") == 1

        tenant = Principal("r", tenant="acme", key_id="k1", grant=Grant(limits=Limits(rpm=1)))
        other = {"messages": [{"role": "user", "content": "something else"}]}
        await gateway.chat(model="smart", principal=tenant, **other)
        with pytest.raises(LimitExceeded):
            await gateway.chat(model="smart", principal=tenant, **other)
        assert sample(gateway, "llm_rate_limited_total", level="tenant") == 1
        assert sample(gateway, "llm_rate_limited_total", level="global") == 0

        no_cache = {"no_cache": True, "no_store": True}
        for _ in range(2):  # admitted while the spend is under the budget ($0.004, then $0.008)
            await gateway.chat(model="capped", messages=HELLO, max_tokens=4, cache=no_cache)
        with pytest.raises(QuotaExceeded):
            await gateway.chat(model="capped", messages=HELLO, max_tokens=4, cache=no_cache)
        assert sample(gateway, "llm_budget_rejections_total", level="alias") == 1
        assert sample(gateway, "llm_budget_rejections_total", level="tenant") == 0
