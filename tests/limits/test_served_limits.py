"""Limits over HTTP with the official ``openai`` SDK: two `switchyard serve` processes sharing
Redis enforce one limit together; the headers on 429 and on success; insufficient_quota."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.e2e.served import serve
from tests.e2e.served_process import serve_process

from .conftest import REDIS_URL

KEY = "sk-master-limits-test"
HELLO: Any = [{"role": "user", "content": "hello there"}]
# the fake says 2 input words and 9 output words (11 tokens); the gateway estimates "hello
# there" at 7 tokens (11 characters / 4, plus 4 for the message) plus max_tokens 4: also 11,
# so the correction is zero and a TPM limit admits an exact number of requests
REPLY = "one two three four five six seven eight nine"


def process_config(prefix: str, limits: str, tmp: Path) -> str:
    return f"""
server: {{port: PORT, master_key: {KEY}}}
providers:
  f: {{type: fake, reply: "{REPLY}", latency: 0.02}}
models:
  - name: smart
    deployments: [{{provider: f, model: m}}]
limits: {{backend: redis, url: "{REDIS_URL}", prefix: "{prefix}", global: {limits}}}
"""


def hammer(urls: list[str], requests: int) -> tuple[int, int, list[openai.RateLimitError]]:
    """``requests`` chat completions spread over ``urls``, 16 at a time: (served, refused)."""
    clients = [openai.OpenAI(base_url=f"{u}/v1", api_key=KEY, max_retries=0) for u in urls]
    refusals: list[openai.RateLimitError] = []

    def one(i: int) -> bool:
        try:
            clients[i % len(clients)].chat.completions.create(
                model="smart", messages=HELLO, max_tokens=4
            )
        except openai.RateLimitError as error:
            refusals.append(error)
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(requests)))
    return sum(results), len(results) - sum(results), refusals


@pytest.mark.parametrize(("limits", "admits"), [("{rpm: 20}", 20), ("{tpm: 330}", 30)])
def test_two_replicas_sharing_redis_admit_one_limit_together(
    redis_prefix: str, tmp_path: Path, limits: str, admits: int
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    config = process_config(redis_prefix, limits, tmp_path)
    with (
        serve_process(config, tmp_path / "a") as first,
        serve_process(config, tmp_path / "b") as second,
    ):
        served, refused, refusals = hammer([first.url, second.url], admits * 3)
    assert admits <= served <= admits + 1, (served, refused)
    assert refused == admits * 3 - served
    error = refusals[0]
    assert error.status_code == 429 and error.code == "rate_limit_exceeded"
    assert int(error.response.headers["retry-after"]) >= 1
    kind = "requests" if "rpm" in limits else "tokens"
    assert error.response.headers[f"x-ratelimit-remaining-{kind}"] == "0"
    assert error.response.headers[f"x-ratelimit-limit-{kind}"] == str(
        admits if kind == "requests" else 330
    )
    assert error.response.headers[f"x-ratelimit-reset-{kind}"].endswith("s")


def test_headers_on_success_name_the_tightest_limit(redis_prefix: str) -> None:
    config = {
        "server": {"master_key": KEY},
        "providers": {"f": {"type": "fake", "reply": REPLY}},
        "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
        "limits": {
            "backend": "redis",
            "url": REDIS_URL,
            "prefix": redis_prefix,
            "global": {"rpm": 100, "tpm": 1000},
        },
    }
    with serve(config) as served:
        client = served.client(KEY)
        raw = client.chat.completions.with_raw_response.create(
            model="smart", messages=HELLO, max_tokens=4
        )
        headers = raw.headers
        assert raw.parse().choices[0].message.content == REPLY
        assert headers["x-ratelimit-limit-requests"] == "100"
        assert headers["x-ratelimit-remaining-requests"] == "99"
        assert headers["x-ratelimit-limit-tokens"] == "1000"
        assert headers["x-ratelimit-remaining-tokens"] == str(1000 - 11)
        assert headers["x-ratelimit-reset-requests"] in ("600ms", "601ms")
        # streamed answers carry them too
        stream = client.chat.completions.with_raw_response.create(
            model="smart", messages=HELLO, max_tokens=4, stream=True
        )
        assert stream.headers["x-ratelimit-remaining-requests"] == "98"
        assert "".join(c.choices[0].delta.content or "" for c in stream.parse() if c.choices)


def test_a_deployment_over_its_limit_fails_over_then_429_over_http(redis_prefix: str) -> None:
    config = {
        "server": {"master_key": KEY},
        "providers": {"a": {"type": "fake"}, "b": {"type": "fake"}},
        "models": [
            {
                "name": "smart",
                "deployments": [
                    {"provider": "a", "model": "m", "limits": {"rpm": 1}},
                    {"provider": "b", "model": "m", "limits": {"rpm": 1}},
                ],
            }
        ],
        "router": {"max_retry_after_seconds": 1},
        "limits": {"backend": "redis", "url": REDIS_URL, "prefix": redis_prefix},
    }
    with serve(config) as served:
        client = served.client(KEY)
        providers = [
            client.chat.completions.with_raw_response.create(model="smart", messages=HELLO).headers[
                "x-switchyard-provider"
            ]
            for _ in range(2)
        ]
        assert providers == ["a", "b"]
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(model="smart", messages=HELLO)
        assert refused.value.code == "rate_limit_exceeded"
        assert int(refused.value.response.headers["retry-after"]) > 1


def test_an_exhausted_budget_is_insufficient_quota_for_the_sdk(
    redis_prefix: str, sqlite_url: str
) -> None:
    config = {
        "server": {"master_key": KEY},
        "providers": {"f": {"type": "fake", "reply": "one two three four"}},
        "models": [
            {
                "name": "smart",
                "budget": {"usd": "0.008", "period": "day"},
                "deployments": [
                    {"provider": "f", "model": "m", "prices": {"input": 0, "output": 1000}}
                ],
            }
        ],
        "storage": {"url": sqlite_url},
        "limits": {"backend": "redis", "url": REDIS_URL, "prefix": redis_prefix},
    }
    with serve(config) as served:
        client = served.client(KEY)
        for _ in range(2):  # $0.004 each
            client.chat.completions.create(model="smart", messages=HELLO, max_tokens=4)
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(model="smart", messages=HELLO, max_tokens=4)
        assert refused.value.code == "insufficient_quota"
        assert refused.value.body["type"] == "insufficient_quota"  # type: ignore[index]
