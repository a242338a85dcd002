"""``GET /metrics``: the gateway's Prometheus metrics (no key needed, see the guard).

The counters are kept by the Gateway's :class:`~switchyard.records.metrics.Metrics` sink as
requests end; the gauges (breakers, requests in flight, the usage queue) are read here, when
scraped.

Several worker processes (``server.workers``, see :mod:`switchyard.server.workers`) keep their
metrics in prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``): each process
writes its values to files there, and a scrape, whichever worker answers it, adds up every
worker's counters and histograms. A worker cannot read another's gauges when scraped, so in
that mode each worker also sets its own every :data:`GAUGE_SECONDS` (:meth:`refresh_gauges`):
requests in flight and queue depth are summed over the live workers, a breaker's state is the
highest any worker reports.
"""

from __future__ import annotations

import asyncio
import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from switchyard.gateway import Gateway
from switchyard.server.guard import Guard

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
GAUGE_SECONDS = 1.0


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class MetricsEndpoint:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def scrape(self, request: Request) -> Response:
        metrics = self.gateway.metrics
        if metrics is None:
            return Response(b"metrics are off (server.metrics: false)\n", status_code=404)
        await self.gateway.observe_metrics()
        guard = _guard(request.app.middleware_stack)
        if guard is not None:  # the guard counts this scrape too: it is not a request served
            metrics.set_in_flight(max(guard.in_flight - 1, 0))
        if not multiprocess_mode():
            return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
        from prometheus_client import multiprocess

        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker)  # type: ignore[no-untyped-call]
        body = await asyncio.to_thread(generate_latest, every_worker)  # reads the files
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def refresh_gauges(self, app: Starlette) -> None:
        """Set this worker's gauges every :data:`GAUGE_SECONDS`, until cancelled."""
        metrics = self.gateway.metrics
        if metrics is None:
            return
        while True:
            await self.gateway.observe_metrics()
            guard = _guard(app.middleware_stack)
            if guard is not None:
                metrics.set_in_flight(guard.in_flight)
            await asyncio.sleep(GAUGE_SECONDS)


def _guard(app: ASGIApp | None) -> Guard | None:
    """The app's :class:`Guard`, found down the middleware chain (each layer's ``app``)."""
    for _ in range(16):
        if app is None or isinstance(app, Guard):
            return app
        app = getattr(app, "app", None)
    return None


__all__ = ["GAUGE_SECONDS", "MULTIPROC_ENV", "MetricsEndpoint", "multiprocess_mode"]
