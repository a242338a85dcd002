"""Failover under load: an upstream dies mid-run, no request fails, and it earns traffic back.

Two fake OpenAI upstreams behind one weighted alias take a bounded loopback load (16 clients).
Part-way through, one upstream is stopped (connections refused): every request still succeeds
(failover), and its circuit breaker opens. It is then started again on the same port; after the
(short) recovery timeout the breaker half-opens, the trial succeeds, and traffic returns to it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.e2e.served import ServedGateway, serve
from tests.fakes.openai_upstream import OpenAIUpstream

CLIENTS = 16
MAX_REQUESTS = 3000  # a safety bound; the run stops well before it
DEAD_KEY = "second/gpt-4o-mini"


def config(first: OpenAIUpstream, second: OpenAIUpstream) -> dict[str, Any]:
    return {
        "providers": {
            "first": {"type": "openai", "base_url": first.base_url, "api_key": "k"},
            "second": {"type": "openai", "base_url": second.base_url, "api_key": "k"},
        },
        "models": [
            {
                "name": "pair",
                "strategy": "weighted",
                "deployments": [
                    {"provider": "first", "model": "gpt-4o-mini", "timeout": 5},
                    {"provider": "second", "model": "gpt-4o-mini", "timeout": 5},
                ],
            }
        ],
        "router": {
            "retries": 1,
            "backoff": {"initial": 0.01, "maximum": 0.05},
            "circuit_breaker": {"failure_threshold": 3, "recovery_timeout": 0.5},
        },
    }


class Load:
    """``CLIENTS`` concurrent callers, each sending one request after another until stopped."""

    def __init__(self, served: ServedGateway) -> None:
        self.client = httpx.AsyncClient(
            base_url=served.base_url,
            timeout=10,
            limits=httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS),
        )
        self.done = 0
        self.failures: list[str] = []
        self.served_by: dict[str, int] = {}
        self._stop = asyncio.Event()
        self._issued = 0

    async def run(self) -> None:
        try:
            await asyncio.gather(*(self._caller(n) for n in range(CLIENTS)))
        finally:
            await self.client.aclose()

    def stop(self) -> None:
        self._stop.set()

    async def _caller(self, n: int) -> None:
        while not self._stop.is_set() and self._issued < MAX_REQUESTS:
            self._issued += 1
            body = {"model": "pair", "messages": [{"role": "user", "content": f"hi {n}"}]}
            try:
                reply = await self.client.post("/chat/completions", json=body)
            except httpx.HTTPError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            else:
                if reply.status_code != 200:
                    self.failures.append(f"{reply.status_code}: {reply.text[:200]}")
                else:
                    provider = reply.headers["x-switchyard-provider"]
                    self.served_by[provider] = self.served_by.get(provider, 0) + 1
            self.done += 1


async def until(condition: Callable[[], Awaitable[bool] | bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while True:
        outcome = condition()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(0.01)


async def test_killing_and_restoring_an_upstream_under_load() -> None:
    with OpenAIUpstream() as first, OpenAIUpstream() as second:
        port = second.port
        with serve(config(first, second)) as served:
            ops = httpx.AsyncClient(base_url=served.url, timeout=5)
            load = Load(served)
            running = asyncio.create_task(load.run())

            async def breaker_state() -> str:
                rows = (await ops.get("/api/v1/circuit-breakers")).json()["data"]
                return str(next(row["state"] for row in rows if row["key"] == DEAD_KEY))

            async def is_open() -> bool:
                return await breaker_state() == "open"

            try:
                await until(lambda: load.done >= 100, 10, "100 requests before the kill")
                assert len(second.requests) > 10  # both upstreams were taking traffic

                second.stop()  # connections to it are now refused
                killed_at = load.done
                await until(is_open, 5, "the dead upstream's breaker opens")
                await until(lambda: load.done >= killed_at + 150, 10, "150 more requests")
                assert await breaker_state() in ("open", "half_open")

                served_before = load.served_by.get("second", 0)
                before = len(second.requests)
                second.start(port=port)  # back, on the same address
                await until(
                    lambda: load.served_by.get("second", 0) >= served_before + 20,
                    5,
                    "traffic returns to the restored upstream",
                )
                assert len(second.requests) > before
                assert await breaker_state() == "closed"
            finally:
                load.stop()
                await running
                await ops.aclose()

            assert load.failures == [], load.failures[:5]
            assert 300 <= load.done < MAX_REQUESTS
            providers = (await _providers(served)).get("second", {})
            [deployment] = providers["deployments"]
            assert deployment["last_error"]  # the outage is on record


async def _providers(served: ServedGateway) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=served.url) as client:
        rows = (await client.get("/api/v1/providers")).json()["data"]
    return {row["name"]: row for row in rows}
