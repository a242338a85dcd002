"""``GET /api/v1/monitoring/health``: are the gateway's dependencies up?

The answer has the shape existing health checks expect (NestJS Terminus's)::

    {"status": "ok" | "error",
     "info": {"redis": {"status": "up" | "down",
                        "details": {"connection": bool, "latency": ms}},
              "database": {... the same ...},
              "events": {... the same, plus "backend", "queued", "dropped"},
              "providers": {"status": "up" | "down",
                            "details": {name: {"status": ..., "latency": ms | null}}}}}

Each dependency appears only when configured: ``redis`` when the breaker store, the key
revocations (``storage.redis_url``), the limits or the response cache use one (every distinct
URL is checked; ``up`` only when all answer, ``details.uses`` says what for), ``database``
when there is a ``storage`` section, ``events`` when there is an ``events`` section (its
broker is pinged; a down broker never fails a request, so readiness ignores it). Providers are
not called here: their status and latency are the health prober's last verdict (see
:mod:`switchyard.routing.probes`), so this endpoint cannot be used to hammer them. Redis and the
database get one trivial command each with a short timeout, and the whole answer is kept for
:data:`TTL_SECONDS` (concurrent callers share one check).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from switchyard.errors import SwitchyardError
from switchyard.gateway import Gateway

TTL_SECONDS = 5.0
TIMEOUT_SECONDS = 1.0


def redis_urls(gateway: Gateway) -> dict[str, list[str]]:
    """Every Redis the gateway uses, each with what it is used for."""
    config = gateway.config
    uses: list[tuple[str, str | None]] = [
        ("breakers", config.router.breaker_store.url)
        if config.router.breaker_store.backend == "redis"
        else ("breakers", None),
        ("keys", config.storage.redis_url if config.storage is not None else None),
        ("limits", config.limits.url if config.limits.backend == "redis" else None),
        (
            "cache",
            config.cache.url
            if config.cache is not None and config.cache.backend == "redis"
            else None,
        ),
    ]
    urls: dict[str, list[str]] = {}
    for use, url in uses:
        if url is not None:
            urls.setdefault(url, []).append(use)
    return urls


class DependencyHealth:
    def __init__(
        self,
        gateway: Gateway,
        *,
        ttl: float = TTL_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gateway = gateway
        self.ttl = ttl
        self.timeout = timeout
        self._clock = clock
        self._answer: dict[str, Any] | None = None
        self._at = 0.0
        self._running: asyncio.Task[dict[str, Any]] | None = None

    async def report(self) -> dict[str, Any]:
        """The cached answer, or a fresh one when it is older than ``ttl``."""
        if self._answer is not None and self._clock() - self._at < self.ttl:
            return self._answer
        if self._running is None:
            self._running = asyncio.ensure_future(self._check())
        running = self._running
        try:
            answer = await asyncio.shield(running)
        finally:
            if self._running is running and running.done():
                self._running = None
        self._answer, self._at = answer, self._clock()
        return answer

    async def database_up(self) -> bool:
        """For ``/readyz``: False when storage is configured and its database is down."""
        if self.gateway.config.storage is None:
            return True
        info = (await self.report())["info"]
        return bool(info["database"]["status"] == "up")

    async def _check(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        urls = redis_urls(self.gateway)
        checks: dict[str, asyncio.Task[float]] = {}
        if urls:
            checks["redis"] = asyncio.ensure_future(_ping_all(list(urls), self.timeout))
        if self.gateway.config.storage is not None:
            checks["database"] = asyncio.ensure_future(self.gateway.storage_health(self.timeout))
        events = self.gateway.events
        if events is not None:  # the events broker (a ping, connecting first when needed)
            checks["events"] = asyncio.ensure_future(events.check(self.timeout))
        for name, task in checks.items():
            try:
                latency = await task
            except Exception:  # the reason stays out of the answer: it may name a host
                info[name] = {"status": "down", "details": {"connection": False, "latency": None}}
            else:
                info[name] = {
                    "status": "up",
                    "details": {"connection": True, "latency": round(latency, 2)},
                }
        if "redis" in info:
            info["redis"]["details"]["uses"] = sorted(u for uses in urls.values() for u in uses)
        if events is not None:  # which broker, and how the queue is doing (never its URL)
            info["events"]["details"].update(
                backend=events.settings.backend, queued=events.queued, dropped=events.dropped
            )
        info["providers"] = await self._providers()
        up = all(section["status"] == "up" for section in info.values())
        return {"status": "ok" if up else "error", "info": info}

    async def _providers(self) -> dict[str, Any]:
        report = await self.gateway.provider_status()
        details: dict[str, Any] = {}
        for provider in report.providers:
            probe = provider.last_probe
            details[provider.name] = {
                "status": provider.status,
                "latency": round(probe.seconds * 1000.0, 2) if probe is not None else None,
            }
        all_down = bool(details) and all(d["status"] == "down" for d in details.values())
        return {"status": "down" if all_down else "up", "details": details}


async def _ping_all(urls: list[str], within: float) -> float:
    """The slowest PING of them all; raises when any does not answer."""
    return max(await asyncio.gather(*(_ping_redis(url, within) for url in urls)))


async def _ping_redis(url: str, within: float) -> float:
    """Milliseconds a PING took (the ``redis`` extra; without it Redis counts as down)."""
    try:
        from redis.asyncio import Redis
    except ImportError as exc:
        raise SwitchyardError("the redis extra is not installed") from exc
    client = Redis.from_url(url, socket_timeout=within, socket_connect_timeout=within)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(client.ping(), within)
        return (time.perf_counter() - started) * 1000.0
    finally:
        await client.aclose()


__all__ = ["TTL_SECONDS", "DependencyHealth", "redis_urls"]
