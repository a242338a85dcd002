"""GET /api/v1/monitoring/health and /readyz against a real Redis and real databases, up and
down (a refused port is "down")."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from typing import Any

import httpx
import pytest

from switchyard import Gateway
from switchyard.server.app import create_app
from switchyard.server.health import DependencyHealth
from tests.e2e.served import serve
from tests.e2e.served_process import free_port

KEY = "sk-master-health-test"
HEADERS = {"authorization": f"Bearer {KEY}"}
BASE: dict[str, Any] = {
    "server": {"master_key": KEY},
    "providers": {"a": {"type": "fake"}, "gone": {"type": "fake", "failure": {"status": 503}}},
    "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "a-1"}]}],
}


def with_redis(url: str) -> dict[str, Any]:
    store = {"backend": "redis", "url": url, "prefix": f"test:{uuid.uuid4().hex}:"}
    return {**BASE, "router": {"breaker_store": store}}


def test_without_dependencies_only_the_providers_are_reported() -> None:
    config = {
        **BASE,
        "router": {"retries": 0, "circuit_breaker": {"failure_threshold": 1}},
        "models": [
            *BASE["models"],
            {"name": "bad", "deployments": [{"provider": "gone", "model": "g"}]},
        ],
    }
    with serve(Gateway.from_config(config)) as served:
        body = {"model": "bad", "messages": [{"role": "user", "content": "hi"}]}
        failed = httpx.post(f"{served.base_url}/chat/completions", json=body, headers=HEADERS)
        assert failed.status_code == 503  # its breaker is open now
        assert httpx.get(f"{served.url}/api/v1/monitoring/health").status_code == 401
        answer = httpx.get(f"{served.url}/api/v1/monitoring/health", headers=HEADERS)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and set(body["info"]) == {"providers"}
    providers = body["info"]["providers"]
    assert providers["status"] == "up"  # one provider down is not all of them
    assert set(providers["details"]) == {"a", "gone"}
    assert providers["details"]["a"]["status"] == "healthy"
    assert providers["details"]["gone"]["status"] == "down"
    assert isinstance(providers["details"]["a"]["latency"], float)


def test_redis_and_the_database_up(storage_url: str) -> None:
    config = {**with_redis("redis://127.0.0.1:6379/0"), "storage": {"url": storage_url}}
    with serve(Gateway.from_config(config)) as served:
        answer = httpx.get(f"{served.url}/api/v1/monitoring/health", headers=HEADERS)
        ready = httpx.get(f"{served.url}/readyz")
    assert answer.status_code == 200 and ready.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["info"]["redis"]["details"]["uses"] == ["breakers"]
    for name in ("redis", "database"):
        section = body["info"][name]
        assert section["status"] == "up"
        assert section["details"]["connection"] is True
        assert 0 <= section["details"]["latency"] < 1000


async def test_redis_and_the_database_down_fail_the_check_and_readiness() -> None:
    refused = free_port()
    config = {
        **with_redis(f"redis://127.0.0.1:{refused}/0"),
        "storage": {"url": f"postgresql+asyncpg://postgres@127.0.0.1:{refused}/switchyard"},
    }
    gateway = Gateway.from_config(config)
    app = create_app(gateway)  # not started: its database could not be migrated
    app.state.health.ready = True
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        started = time.monotonic()
        answer = await client.get("/api/v1/monitoring/health", headers=HEADERS)
        ready = await client.get("/readyz")
        took = time.monotonic() - started
    assert answer.status_code == 503 and ready.status_code == 503
    body = answer.json()
    assert body["status"] == "error"
    down = {"status": "down", "details": {"connection": False, "latency": None}}
    assert body["info"]["database"] == down
    assert body["info"]["redis"] == {**down, "details": {**down["details"], "uses": ["breakers"]}}
    assert str(refused) not in answer.text  # no host or port in the answer
    assert ready.json()["status"] == "not_ready"
    assert took < 3  # short timeouts, and /readyz reused the cached check


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
async def test_the_answer_is_cached_for_a_few_seconds() -> None:
    port = free_port()
    now = [1000.0]
    health = DependencyHealth(
        Gateway.from_config(with_redis(f"redis://127.0.0.1:{port}/0")), clock=lambda: now[0]
    )
    assert (await health.report())["info"]["redis"]["status"] == "down"
    server = await asyncio.create_subprocess_exec(
        *("redis-server", "--port", str(port), "--save", "", "--appendonly", "no"),
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.02)
        now[0] += 4  # within the cache's time: the old answer, Redis not asked again
        assert (await health.report())["info"]["redis"]["status"] == "down"
        now[0] += 2
        assert (await health.report())["info"]["redis"]["status"] == "up"
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)


async def test_the_limits_and_the_cache_redis_are_checked_too() -> None:
    """Every Redis the gateway leans on is in the answer: one that answers (the limits') and
    one that does not (the cache's) make the section down, naming both uses."""
    refused = free_port()
    config = {
        **BASE,
        "limits": {"backend": "redis", "url": "redis://127.0.0.1:6379/0"},
        "cache": {"backend": "redis", "url": f"redis://127.0.0.1:{refused}/0"},
    }
    health = DependencyHealth(Gateway.from_config(config))
    redis = (await health.report())["info"]["redis"]
    assert redis["status"] == "down" and redis["details"]["uses"] == ["cache", "limits"]
    config["cache"] = {"backend": "redis", "url": "redis://127.0.0.1:6379/0"}
    redis = (await DependencyHealth(Gateway.from_config(config)).report())["info"]["redis"]
    assert redis["status"] == "up" and redis["details"]["uses"] == ["cache", "limits"]
