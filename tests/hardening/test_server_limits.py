"""The served gateway's own bounds and what it shows without a key: the admission limit, the
fake provider's memory, /readyz, trailing slashes (issue 7, "Bounded memory" and "Smaller")."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from switchyard.providers.fake import REQUEST_LOG_SIZE
from tests.e2e.served import serve
from tests.fakes.gateway import fake_provider

HELLO: Any = [{"role": "user", "content": "hello"}]
KEY = "s3cret-key"


def test_requests_past_max_concurrent_requests_get_a_503_at_once() -> None:
    config = {
        "server": {"max_concurrent_requests": 2},
        "providers": {"slow": {"type": "fake", "reply": "late", "latency": 1.5}},
        "models": [{"name": "slow", "deployments": [{"provider": "slow", "model": "m"}]}],
    }
    body = {"model": "slow", "messages": HELLO}
    with serve(config) as served:
        url = f"{served.base_url}/chat/completions"
        answers: list[int] = []
        slow = [
            threading.Thread(target=lambda: answers.append(httpx.post(url, json=body).status_code))
            for _ in range(2)
        ]
        for thread in slow:
            thread.start()
        deadline = time.monotonic() + 2
        while fake_provider(served.gateway, "slow").calls < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        refused = httpx.post(url, json=body, headers={"x-request-id": "over-the-top"})
        assert time.monotonic() - started < 1.0  # the slow ones take 1.5 s
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["x-request-id"] == "over-the-top"
        assert refused.json()["error"]["code"] == "server_overloaded"
        assert refused.json()["error"]["type"] == "api_error"
        assert httpx.get(f"{served.url}/healthz").status_code == 200
        assert httpx.get(f"{served.url}/readyz").status_code == 200
        for thread in slow:
            thread.join(timeout=5)
        assert answers == [200, 200]
        assert httpx.post(url, json=body).status_code == 200  # the slots were given back


def test_the_fake_provider_keeps_only_its_last_requests_and_caps_dimensions() -> None:
    config = {
        "providers": {"a": {"type": "fake"}},
        "models": [{"name": "a", "deployments": [{"provider": "a", "model": "m"}]}],
    }
    with serve(config) as served, httpx.Client(base_url=served.base_url) as client:
        for n in range(REQUEST_LOG_SIZE + 5):
            body = {"model": "a", "messages": [{"role": "user", "content": f"call {n}"}]}
            assert client.post("/chat/completions", json=body).status_code == 200
        log = fake_provider(served.gateway, "a").requests
        assert len(log) == REQUEST_LOG_SIZE
        assert log[0].messages[0].text() == "call 5"
        assert log[-1].messages[0].text() == f"call {REQUEST_LOG_SIZE + 4}"
        embed = {"model": "a", "input": ["x"], "dimensions": 2_000_000}
        huge = client.post("/embeddings", json=embed)
        assert huge.status_code == 400
        assert huge.json()["error"]["param"] == "dimensions"
        most = client.post("/embeddings", json={**embed, "dimensions": 8192})
        assert len(most.json()["data"][0]["embedding"]) == 8192


def test_readyz_shows_only_its_status_without_the_master_key() -> None:
    config = {
        "server": {"master_key": KEY},
        "providers": {"secret-provider": {"type": "fake"}},
    }
    with serve(config) as served:
        anonymous = httpx.get(f"{served.url}/readyz")
        assert anonymous.status_code == 200
        assert anonymous.json() == {"status": "ready"}
        wrong = httpx.get(f"{served.url}/readyz", headers={"authorization": "Bearer nope"})
        assert wrong.json() == {"status": "ready"}
        keyed = httpx.get(f"{served.url}/readyz", headers={"authorization": f"Bearer {KEY}"})
        assert keyed.json() == {"status": "ready", "providers": ["secret-provider"]}
        assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}


def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_host_header() -> None:
    config = {"providers": {"a": {"type": "fake"}}}
    with serve(config) as served:
        reply = httpx.post(
            f"{served.base_url}/chat/completions/",
            headers={"host": "evil.example"},
            json={"model": "a/m", "messages": HELLO},
        )
    assert reply.status_code == 404
    assert "location" not in reply.headers
    assert reply.json()["error"]["code"] == "not_found"
