"""``GET /metrics``: the gateway's Prometheus metrics (no key needed, see the guard).

The counters are kept by the Gateway's :class:`~switchyard.records.metrics.Metrics` sink as
requests end; the gauges (breakers, requests in flight, the usage queue) are read here, when
scraped. One process, one endpoint: with several processes behind one port each scrape sees
one of them, so run one endpoint per process (README, "Operating Switchyard").
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from switchyard.gateway import Gateway
from switchyard.server.guard import Guard


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
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _guard(app: ASGIApp | None) -> Guard | None:
    """The app's :class:`Guard`, found down the middleware chain (each layer's ``app``)."""
    for _ in range(16):
        if app is None or isinstance(app, Guard):
            return app
        app = getattr(app, "app", None)
    return None


__all__ = ["MetricsEndpoint"]
