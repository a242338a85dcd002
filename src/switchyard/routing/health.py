"""Passive health: what real traffic says about each deployment.

For every deployment (``provider/model``) the board keeps requests in flight, an EWMA of
time-to-first-token and of total latency (what the ``fastest`` strategy ranks by), and a window
of recent outcomes from which error rate and latency percentiles are computed for
``GET /api/v1/providers``. Recording is a few arithmetic operations per attempt: no I/O, no
locks (one event loop), no allocation beyond the bounded window. Records of ``provider/model``
names a caller makes up are capped (``router.max_direct_deployments``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel

from switchyard.resilience.deployment_records import DEFAULT_MAX_DIRECT, DeploymentRecords

EWMA_ALPHA = 0.2
WINDOW = 256


@dataclass(slots=True)
class DeploymentHealth:
    in_flight: int = 0
    requests: int = 0
    failures: int = 0
    ewma_latency: float | None = None  # seconds
    ewma_ttft: float | None = None  # seconds
    recent: deque[tuple[float, bool, float]] = field(default_factory=lambda: deque(maxlen=WINDOW))
    ttfts: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))  # seconds
    last_error: str | None = None
    last_error_at: float | None = None  # wall clock (time.time())
    probe_ok: bool | None = None
    probe_at: float | None = None

    def error_rate(self) -> float:
        if not self.recent:
            return 0.0
        return sum(1 for _, ok, _ in self.recent if not ok) / len(self.recent)

    def latency_percentile(self, q: float) -> float | None:
        latencies = sorted(latency for _, ok, latency in self.recent if ok)
        if not latencies:
            return None
        index = min(int(q * len(latencies)), len(latencies) - 1)
        return latencies[index]


def _ewma(previous: float | None, sample: float) -> float:
    return sample if previous is None else previous + EWMA_ALPHA * (sample - previous)


class HealthView(BaseModel):
    key: str
    status: str  # healthy | degraded | down | unknown
    in_flight: int
    requests: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    ttft_ms: float | None
    last_error: str | None
    last_error_at: float | None
    probe_ok: bool | None


class HealthBoard:
    """Records for the deployments in ``keep`` (the configured ones) live as long as the board;
    those of other ``provider/model`` names, at most ``max_direct`` of them, least recently used
    first out (see :mod:`~switchyard.resilience.deployment_records`)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        keep: Iterable[str] = (),
        max_direct: int = DEFAULT_MAX_DIRECT,
    ) -> None:
        self.clock = clock
        self.deployments: DeploymentRecords[DeploymentHealth] = DeploymentRecords(keep, max_direct)

    def get(self, key: str) -> DeploymentHealth:
        health = self.deployments.get(key)
        if health is None:
            health = self.deployments.add(key, DeploymentHealth())
        return health

    def started(self, key: str) -> None:
        self.get(key).in_flight += 1

    def first_token(self, key: str, seconds: float) -> None:
        health = self.get(key)
        health.ewma_ttft = _ewma(health.ewma_ttft, seconds)
        health.ttfts.append(seconds)

    def finished(self, key: str, *, ok: bool, seconds: float, error: str | None = None) -> None:
        health = self.get(key)
        health.in_flight = max(health.in_flight - 1, 0)
        health.requests += 1
        health.recent.append((self.clock(), ok, seconds))
        if ok:
            health.ewma_latency = _ewma(health.ewma_latency, seconds)
        else:
            health.failures += 1
            health.last_error = error
            health.last_error_at = time.time()

    def abandoned(self, key: str) -> None:
        """An attempt that ended without a verdict (cancelled, or the caller's error)."""
        health = self.get(key)
        health.in_flight = max(health.in_flight - 1, 0)

    def probed(self, key: str, *, ok: bool, seconds: float, error: str | None = None) -> None:
        health = self.get(key)
        health.probe_ok = ok
        health.probe_at = time.time()
        if not ok:
            health.last_error = error
            health.last_error_at = health.probe_at

    def view(self, key: str) -> HealthView:
        health = self.get(key)
        rate = health.error_rate()
        if health.probe_ok is False or (health.recent and rate >= 0.5):
            status = "down"
        elif rate > 0.05:
            status = "degraded"
        elif health.recent or health.probe_ok:
            status = "healthy"
        else:
            status = "unknown"
        p50, p95 = health.latency_percentile(0.5), health.latency_percentile(0.95)
        return HealthView(
            key=key,
            status=status,
            in_flight=health.in_flight,
            requests=health.requests,
            error_rate=round(rate, 4),
            latency_p50_ms=None if p50 is None else round(p50 * 1000, 2),
            latency_p95_ms=None if p95 is None else round(p95 * 1000, 2),
            ttft_ms=None if health.ewma_ttft is None else round(health.ewma_ttft * 1000, 2),
            last_error=health.last_error,
            last_error_at=health.last_error_at,
            probe_ok=health.probe_ok,
        )


__all__ = ["DeploymentHealth", "HealthBoard", "HealthView"]
