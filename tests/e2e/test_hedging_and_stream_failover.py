"""Hedged requests and mid-stream failover, seen by the official `openai` SDK through the served
gateway (fake providers behind it, everything on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from switchyard.midstream import CONTINUE_INSTRUCTION
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider
from tests.fakes.openapi_schema import assert_valid

HELLO: Any = [{"role": "user", "content": "count to four"}]

CONFIG = {
    "providers": {
        "slow": {"type": "fake", "reply": "slow answer", "latency": 30},
        "fast": {"type": "fake", "reply": "fast answer"},
        "cut": {
            "type": "fake",
            "reply": "one two three four",
            "failure": {"mode": "cut_stream", "after_chunks": 2},
        },
        "rest": {"type": "fake", "reply": " three four"},
    },
    "models": [
        {
            "name": "hedged",
            "hedge": {"delay": 0.05, "max_extra": 1},
            "deployments": [
                {"provider": "slow", "model": "s"},
                {"provider": "fast", "model": "f"},
            ],
        },
        {
            "name": "resumable",
            "mid_stream_failover": True,
            "deployments": [
                {"provider": "cut", "model": "c"},
                {"provider": "rest", "model": "r"},
            ],
        },
        {
            "name": "fragile",
            "deployments": [
                {"provider": "cut", "model": "c"},
                {"provider": "rest", "model": "r"},
            ],
        },
    ],
    "router": {"retries": 0},
}


@pytest.fixture(scope="module")
def served() -> Iterator[ServedGateway]:
    with serve(CONFIG) as s:
        yield s


@pytest.fixture()
def client(served: ServedGateway) -> openai.OpenAI:
    return served.client()


def test_a_hedge_that_won_is_named_in_the_headers(
    client: openai.OpenAI, served: ServedGateway
) -> None:
    raw = client.chat.completions.with_raw_response.create(model="hedged", messages=HELLO)
    assert raw.parse().choices[0].message.content == "fast answer"
    assert raw.headers["x-switchyard-hedged"] == "true"
    assert raw.headers["x-switchyard-provider"] == "fast"
    assert raw.headers["x-switchyard-attempts"] == "2"
    assert fake_provider(served.gateway, "slow").cancelled >= 1


def test_a_hedged_stream_through_the_sdk(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="hedged", messages=HELLO, stream=True
    )
    assert raw.headers["x-switchyard-hedged"] == "true"
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text == "fast answer"


def test_mid_stream_failover_is_one_stream_with_a_marker(
    client: openai.OpenAI, served: ServedGateway
) -> None:
    chunks = list(client.chat.completions.create(model="resumable", messages=HELLO, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four"
    assert len({c.id for c in chunks}) == 1
    marked = [c for c in chunks if c.model_extra and "switchyard" in c.model_extra]
    assert len(marked) == 1
    failover = marked[0].model_extra["switchyard"]["failover"]  # type: ignore[index]
    assert (failover["from"], failover["to"]) == ("cut/c", "rest/r")
    assert marked[0].choices[0].delta.content == " three"
    sent = fake_provider(served.gateway, "rest").requests[-1]
    assert [m.text() for m in sent.messages][-2:] == ["one two", CONTINUE_INSTRUCTION]


def test_mid_stream_failover_on_the_wire_ends_with_done(served: ServedGateway) -> None:
    body = {
        "model": "resumable",
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream(
        "POST", f"{served.base_url}/chat/completions", json=body, timeout=10
    ) as reply:
        assert reply.status_code == 200
        events = [line[6:] for line in reply.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    payloads = [json.loads(e) for e in events[:-1]]
    assert not any("error" in p for p in payloads)
    marked = [p for p in payloads if "switchyard" in p]
    assert len(marked) == 1 and marked[0]["switchyard"]["failover"]["to"] == "rest/r"
    for payload in payloads:  # apart from the extra field, every chunk is OpenAI's shape
        assert_valid(
            "CreateChatCompletionStreamResponse",
            {k: v for k, v in payload.items() if k != "switchyard"},
        )
    usage = payloads[-1]["usage"]
    assert usage["completion_tokens"] > 2  # both legs


def test_without_the_option_the_break_is_an_error_event(served: ServedGateway) -> None:
    body = {"model": "fragile", "messages": HELLO, "stream": True}
    with httpx.stream(
        "POST", f"{served.base_url}/chat/completions", json=body, timeout=10
    ) as reply:
        events = [line[6:] for line in reply.iter_lines() if line.startswith("data: ")]
    assert "[DONE]" not in events
    assert "error" in json.loads(events[-1])
