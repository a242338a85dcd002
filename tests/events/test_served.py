"""Events from the served gateway: the OpenAI door's caller sends its own ``x-request-id``
(the events' correlation id), and the server's shutdown (the lifespan's end, what SIGTERM
triggers) publishes what is still queued."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from switchyard import Gateway
from tests.e2e.served import serve
from tests.events.brokers import Received, consume, new_prefix, require


def test_the_served_gateway_publishes_with_the_callers_request_id() -> None:
    url = require("nats")
    prefix = new_prefix()
    config: dict[str, Any] = {
        "providers": {"a": {"type": "fake", "reply": "fine"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "a-1"}]}],
        "events": {"backend": "nats", "url": url, "topic_prefix": prefix},
    }
    got: list[Received] = []
    ready, done = threading.Event(), threading.Event()

    async def consumer() -> None:
        async with consume("nats", url, prefix) as received:
            got.append(received)
            ready.set()
            await received.wait_for(4)
        done.set()

    thread = threading.Thread(target=lambda: asyncio.run(consumer()), daemon=True)
    thread.start()
    assert ready.wait(10)
    with serve(Gateway.from_config(config)) as served:
        body = {"model": "smart", "messages": [{"role": "user", "content": "hi"}]}
        answer = httpx.post(
            f"{served.base_url}/chat/completions", json=body, headers={"x-request-id": "job-7"}
        )
        assert answer.status_code == 200 and answer.headers["x-request-id"] == "job-7"
        body = {"model": "nowhere", "messages": [{"role": "user", "content": "hi"}]}
        missing = httpx.post(f"{served.base_url}/chat/completions", json=body)
        assert missing.status_code == 404
    # the server has stopped: its lifespan closed the gateway, which flushed the queue
    thread.join(20)
    assert done.is_set()
    (received,) = got
    mine = [e for e in received.events if e["data"]["request_id"] == "job-7"]
    assert {e["type"] for e in mine} == {
        "llm_provider.request_started.v1",
        "llm_provider.request_completed.v1",
    }
    assert all(e["data"]["correlation_id"] == "job-7" for e in mine)
    (failure,) = received.of_type("failure")
    assert failure["data"]["error_type"] == "model_not_found"
    assert failure["data"]["alias"] == "nowhere"
