"""Events published through FastStream to the real NATS, RabbitMQ and Redis Streams of this
machine, consumed by real FastStream subscribers: a success, a failure and a stream, each with
its ``request_started``, under the configured topic prefix, in the CloudEvents-style envelope."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from switchyard import Gateway, ProviderUnavailable
from switchyard.types import Principal
from tests.events.brokers import consume, new_prefix, require

PROMPT = "count to four, secretly"
REPLY = "one two three four"
ENVELOPE_KEYS = {"specversion", "id", "source", "type", "time", "datacontenttype", "data"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def config(backend: str, url: str, prefix: str, **events: Any) -> dict[str, Any]:
    return {
        "providers": {
            "a": {"type": "fake", "reply": REPLY},
            "down": {"type": "fake", "failure": {"status": 503}},
        },
        "models": [
            {
                "name": "smart",
                "deployments": [
                    {"provider": "a", "model": "a-1", "prices": {"input": 1, "output": 2}}
                ],
            },
            {"name": "broken", "deployments": [{"provider": "down", "model": "d-1"}]},
        ],
        "router": {"retries": 0},
        "events": {"backend": backend, "url": url, "topic_prefix": prefix, **events},
    }


CALLER = Principal(request_id="corr-42", tenant="acme", key_id="key_7", user="ann")


@pytest.mark.parametrize("backend", ["nats", "rabbitmq", "redis"])
async def test_success_failure_and_stream_are_consumed(backend: str) -> None:
    url = require(backend)
    prefix = new_prefix()
    messages = [{"role": "user", "content": PROMPT}]
    async with consume(backend, url, prefix) as received:
        async with Gateway.from_config(config(backend, url, prefix)) as gateway:
            await gateway.chat(model="smart", messages=messages, principal=CALLER)
            with pytest.raises(ProviderUnavailable):
                await gateway.chat(model="broken", messages=messages)
            chunks = [c async for c in gateway.stream(model="smart", messages=messages)]
            assert chunks
        events = await received.wait_for(6)

    assert len(events) == 6  # started + ended, for each of the three requests
    for event, topic, content_type in zip(
        events, received.topics, received.content_types, strict=True
    ):
        assert set(event) == ENVELOPE_KEYS
        assert event["specversion"] == "1.0" and event["source"] == "switchyard"
        assert event["datacontenttype"] == "application/json"
        assert content_type == "application/json"
        assert topic == prefix + event["type"]  # the prefix names where it went
        assert RFC3339.match(event["time"])
        raw = orjson.dumps(event).decode()
        assert PROMPT not in raw and "one two" not in raw  # no prompt, no completion
    assert len({e["id"] for e in events}) == 6

    started = received.of_type("request_started")
    assert len(started) == 3
    by_kind = {(s["data"]["kind"], s["data"]["alias"]) for s in started}
    assert by_kind == {("chat", "smart"), ("chat", "broken"), ("stream", "smart")}

    completed = received.of_type("request_completed")
    assert len(completed) == 2
    plain = next(e["data"] for e in completed if e["data"]["kind"] == "chat")
    assert plain["request_id"] == plain["correlation_id"] == "corr-42"
    assert (plain["tenant"], plain["key_id"], plain["user"]) == ("acme", "key_7", "ann")
    assert (plain["alias"], plain["provider"], plain["model"]) == ("smart", "a", "a-1")
    assert plain["status"] == "success" and plain["error_type"] is None
    assert plain["attempts"] == 1
    usage = plain["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] == 4
    expected = (usage["input_tokens"] * 1 + usage["output_tokens"] * 2) / 1e6
    assert plain["cost"]["total_usd"] == pytest.approx(expected)
    assert plain["latency_ms"] > 0 and plain["ttft_ms"] is None
    streamed = next(e["data"] for e in completed if e["data"]["kind"] == "stream")
    assert streamed["ttft_ms"] is not None and streamed["ttft_ms"] <= streamed["latency_ms"]
    assert streamed["usage"]["output_tokens"] == 4

    (failure,) = received.of_type("failure")
    data = failure["data"]
    assert data["status"] == "error" and data["error_type"] == "provider_unavailable"
    assert data["alias"] == "broken" and data["provider"] is None
    assert data["attempts"] == 1 and data["usage"] is None and data["cost"] is None
    assert data["http_status"] == 503


async def test_only_the_enabled_events_are_published() -> None:
    url = require("nats")
    prefix = new_prefix()
    events = {"enabled": ["failure"]}
    async with consume("nats", url, prefix) as received:
        async with Gateway.from_config(config("nats", url, prefix, **events)) as gateway:
            await gateway.chat(model="smart", messages=[{"role": "user", "content": "hi"}])
            with pytest.raises(ProviderUnavailable):
                await gateway.chat(model="broken", messages=[{"role": "user", "content": "hi"}])
        assert gateway.events is not None and gateway.events.published == 1  # after the flush
        (event,) = await received.wait_for(1)
    assert event["type"] == "llm_provider.failure.v1"
