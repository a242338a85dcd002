"""Redis stopped mid-test (a private redis-server): ``on_backend_error: open`` keeps serving,
``closed`` answers 503 ``limits_unavailable``; /readyz says so; nothing hangs; when Redis is
back, limits are enforced again without a restart."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.served import serve

from .conftest import PrivateRedis

KEY = "sk-master-outage-test"
HELLO: Any = [{"role": "user", "content": "hello there"}]
AUTH = {"authorization": f"Bearer {KEY}"}


def config(url: str, policy: str) -> dict[str, Any]:
    return {
        "server": {"master_key": KEY},
        "providers": {"f": {"type": "fake"}},
        "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
        "limits": {
            "backend": "redis",
            "url": url,
            "on_backend_error": policy,
            "timeout_seconds": 0.2,
            "global": {"rpm": 3},
        },
    }


def timed(client: openai.OpenAI) -> tuple[bool, float, Exception | None]:
    started = time.monotonic()
    try:
        client.chat.completions.create(model="smart", messages=HELLO)
    except openai.APIError as error:
        return False, time.monotonic() - started, error
    return True, time.monotonic() - started, None


def eventually(check: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.05)


def readiness(url: str) -> tuple[int, dict[str, Any]]:
    reply = httpx.get(f"{url}/readyz", headers=AUTH, timeout=5)
    return reply.status_code, reply.json()


def test_open_policy_serves_through_an_outage_and_recovers(private_redis: PrivateRedis) -> None:
    with serve(config(private_redis.url, "open")) as served:
        client = served.client(KEY)
        assert timed(client)[0]
        assert readiness(served.url) == (
            200,
            {
                "status": "ready",
                "providers": ["f"],
                "limits": {"backend": "redis", "status": "ok", "on_backend_error": "open"},
            },
        )
        private_redis.stop()
        results = [timed(client) for _ in range(6)]  # past rpm 3: admitted unchecked
        assert all(ok for ok, _, _ in results), results
        assert max(seconds for _, seconds, _ in results) < 1.5
        status, body = readiness(served.url)
        assert status == 200 and body["limits"]["status"] == "unavailable"
        admission = served.gateway.admission
        assert admission is not None and admission.limiter.errors >= 1

        private_redis.start()  # empty: it kept nothing
        eventually(lambda: readiness(served.url)[1]["limits"]["status"] == "ok")
        outcomes = [timed(client)[0] for _ in range(4)]
        assert outcomes == [True, True, True, False]  # enforced again, without a restart


def test_closed_policy_refuses_with_503_and_recovers(private_redis: PrivateRedis) -> None:
    with serve(config(private_redis.url, "closed")) as served:
        client = served.client(KEY)
        assert timed(client)[0]
        private_redis.stop()
        for _ in range(3):
            ok, seconds, error = timed(client)
            assert not ok and seconds < 1.5
            assert isinstance(error, openai.InternalServerError)
            assert error.status_code == 503 and error.code == "limits_unavailable"
        status, body = readiness(served.url)
        assert status == 503 and body["status"] == "not_ready"
        assert body["limits"] == {
            "backend": "redis",
            "status": "unavailable",
            "on_backend_error": "closed",
        }
        assert httpx.get(f"{served.url}/readyz").json() == {"status": "not_ready"}

        private_redis.start()
        eventually(lambda: readiness(served.url)[0] == 200)
        assert [timed(client)[0] for _ in range(4)] == [True, True, True, False]


def test_a_redis_that_stops_answering_does_not_hang_requests(
    private_redis: PrivateRedis,
) -> None:
    """SIGSTOP: connections open, nothing answers; the timeouts bound every request."""
    with serve(config(private_redis.url, "closed")) as served:
        client = served.client(KEY)
        assert timed(client)[0]
        assert private_redis.process is not None
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        try:
            ok, seconds, error = timed(client)
            assert not ok and seconds < 3.0
            assert isinstance(error, openai.InternalServerError)
            started = time.monotonic()
            status, _ = readiness(served.url)
            assert status == 503 and time.monotonic() - started < 3.0
        finally:
            os.kill(private_redis.process.pid, signal.SIGCONT)
        eventually(lambda: readiness(served.url)[0] == 200)
        assert timed(client)[0]


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_memory_backend_never_depends_on_anything(policy: str) -> None:
    settings = config("redis://127.0.0.1:1/0", policy)
    settings["limits"]["backend"] = "memory"
    with serve(settings) as served:
        client = served.client(KEY)
        assert [timed(client)[0] for _ in range(4)] == [True, True, True, False]
        status, body = readiness(served.url)
        assert status == 200 and body["limits"]["status"] == "ok"
