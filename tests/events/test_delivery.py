"""Delivery off the request path: a broker that cannot be reached never fails or slows a
request, its events are retried a bounded number of times and then counted in
``llm_queue_dropped_total{queue="events"}``; a full queue drops (counted), never blocks; what
is queued at close is flushed; the health endpoint reports the broker."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from switchyard import Gateway
from switchyard.events.settings import EventsSettings
from tests.e2e.served import serve
from tests.e2e.served_process import free_port
from tests.e2e.test_metrics import scrape, value
from tests.events.brokers import consume, new_prefix, require

KEY = "sk-master-events-test"
HEADERS = {"authorization": f"Bearer {KEY}"}
HI = [{"role": "user", "content": "hi"}]


def config(events: dict[str, Any]) -> dict[str, Any]:
    return {
        "server": {"master_key": KEY},
        "providers": {"a": {"type": "fake", "reply": "fine"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "a-1"}]}],
        "events": events,
    }


def unreachable(backend: str) -> str:
    port = free_port()  # nothing listens there
    return {
        "nats": f"nats://127.0.0.1:{port}",
        "redis": f"redis://127.0.0.1:{port}/0",
        "rabbitmq": f"amqp://guest:guest@127.0.0.1:{port}/",
    }[backend]


@pytest.mark.parametrize("backend", ["redis", "nats", "rabbitmq"])
def test_an_unreachable_broker_fails_no_request_and_its_drops_are_counted(backend: str) -> None:
    events = {
        "backend": backend,
        "url": unreachable(backend),
        "retries": 2,
        "backoff_seconds": 0.01,
        "publish_timeout_seconds": 0.2,
    }
    with serve(Gateway.from_config(config(events))) as served:
        started = time.perf_counter()
        with httpx.Client(base_url=served.url, headers=HEADERS) as client:
            for _ in range(3):
                body = {"model": "smart", "messages": HI}
                answer = client.post("/v1/chat/completions", json=body)
                assert answer.status_code == 200
        assert time.perf_counter() - started < 1.0  # not waiting on any broker
        publisher = served.gateway.events
        assert publisher is not None
        deadline = time.monotonic() + 15
        while publisher.dropped < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        _, samples = scrape(served)
        assert value(samples, "llm_queue_dropped_total", queue="events") == 6
        assert value(samples, "llm_queue_depth", queue="events") == 0
        assert publisher.published == 0
        assert publisher.retries >= 2  # each failed batch tried 2 more times, then dropped
        health = httpx.get(f"{served.url}/api/v1/monitoring/health", headers=HEADERS)
        ready = httpx.get(f"{served.url}/readyz")
    assert ready.status_code == 200  # a broker that is down costs events, never requests
    assert health.status_code == 503
    info = health.json()["info"]["events"]
    assert info["status"] == "down" and info["details"]["connection"] is False
    assert info["details"]["backend"] == backend and info["details"]["dropped"] == 6
    assert "127.0.0.1" not in health.text  # the URL (maybe with credentials) stays private


async def test_a_full_queue_drops_and_counts_and_close_flushes_what_was_queued() -> None:
    url = require("nats")
    prefix = new_prefix()
    events = {"backend": "nats", "url": url, "topic_prefix": prefix, "queue_size": 4}
    async with consume("nats", url, prefix) as received:
        gateway = Gateway.from_config(config(events))  # not started: nothing drains the queue
        publisher = gateway.events
        assert publisher is not None
        for _ in range(3):  # 6 events for a queue of 4
            await gateway.chat(model="smart", messages=HI)
        assert publisher.queued == 4 and publisher.dropped == 2
        await gateway.aclose()  # the four queued events go out before it returns
        assert publisher.published == 4 and publisher.queued == 0
        got = await received.wait_for(4)
    # the first two requests, each started and completed (the third's were dropped)
    assert len(received.of_type("request_started")) == 2
    assert len(received.of_type("request_completed")) == 2
    ids = {e["data"]["request_id"] for e in got}
    assert len(ids) == 2


async def test_close_gives_up_after_flush_seconds_and_counts_what_is_left() -> None:
    events = {
        "backend": "nats",
        "url": unreachable("nats"),
        "flush_seconds": 0.3,
        "publish_timeout_seconds": 5,
    }
    gateway = Gateway.from_config(config(events))
    assert gateway.events is not None
    async with gateway:
        for _ in range(10):
            await gateway.chat(model="smart", messages=HI)
        started = time.perf_counter()
    assert time.perf_counter() - started < 2.0  # bounded by flush_seconds, not the timeouts
    assert gateway.events.dropped == 20 and gateway.events.published == 0


def test_the_health_endpoint_reports_a_live_broker() -> None:
    url = require("nats")
    with serve(Gateway.from_config(config({"backend": "nats", "url": url}))) as served:
        answer = httpx.get(f"{served.url}/api/v1/monitoring/health", headers=HEADERS)
        ready = httpx.get(f"{served.url}/readyz")
    assert answer.status_code == 200 and ready.status_code == 200
    info = answer.json()["info"]["events"]
    assert info["status"] == "up" and info["details"]["connection"] is True
    assert info["details"]["latency"] >= 0 and info["details"]["backend"] == "nats"
    assert info["details"]["queued"] == 0 and info["details"]["dropped"] == 0


def test_without_an_events_section_nothing_is_built() -> None:
    gateway = Gateway.from_config(config({"backend": "nats", "url": "nats://x"}) | {"events": None})
    assert gateway.events is None


def test_settings_topics_and_defaults() -> None:
    settings = EventsSettings(backend="kafka", url="127.0.0.1:9092", topic_prefix="huleedu.")
    assert settings.topic("request_completed") == "huleedu.llm_provider.request_completed.v1"
    assert settings.enabled == ("request_started", "request_completed", "failure")
    assert 0 < settings.queue_size <= 1_000_000 and settings.retries >= 0
