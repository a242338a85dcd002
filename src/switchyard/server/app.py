"""The ASGI application: routes of every front door plus the operational endpoints."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.config.schema import ServerSettings
from switchyard.doors.drain import Drain
from switchyard.doors.http import Authenticator
from switchyard.doors.native.admin import AdminDoor
from switchyard.doors.native.cache import CacheDoor
from switchyard.doors.native.operations import OperationsDoor
from switchyard.doors.native.usage import UsageDoor
from switchyard.doors.openai.routes import OpenAIDoor
from switchyard.gateway import Gateway
from switchyard.server.guard import Guard
from switchyard.server.health import DependencyHealth
from switchyard.server.logs import announce
from switchyard.server.metrics import MetricsEndpoint

JSON = "application/json"


class Health:
    """Liveness and readiness. Not ready before start-up finished or once shutdown began, while
    the storage database (when configured) is down, nor while the limits' backend is
    unreachable under ``on_backend_error: closed`` (``limits`` says the backend's state).

    ``/readyz`` lists the providers and the limits' backend only to a caller with the master
    key (when one is set)."""

    def __init__(self, gateway: Gateway, auth: Authenticator, drain: Drain) -> None:
        self.gateway = gateway
        self.auth = auth
        self.drain = drain
        self.ready = False
        self.dependencies = DependencyHealth(gateway)

    async def healthz(self, request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type=JSON)

    async def readyz(self, request: Request) -> Response:
        ready = self.ready and not self.drain.begun
        limits = await self.gateway.limits_status()
        if (
            limits is not None
            and limits["status"] != "ok"
            and limits["on_backend_error"] == "closed"
        ):
            ready = False  # every limited request would be refused (503 limits_unavailable)
        body: dict[str, object] = {"status": "ready" if ready else "not_ready"}
        if ready and not await self.dependencies.database_up():  # required when configured
            ready = False
            body = {"status": "not_ready", "reason": "the storage database is down"}
        if self.auth.allows(request.headers):
            body["providers"] = self.gateway.provider_names()
            if limits is not None:
                body["limits"] = limits
        return Response(orjson.dumps(body), status_code=200 if ready else 503, media_type=JSON)

    async def monitoring(self, request: Request) -> Response:
        """``GET /api/v1/monitoring/health``: 200 when every dependency is up, else 503."""
        report = await self.dependencies.report()
        status = 200 if report["status"] == "ok" else 503
        return Response(orjson.dumps(report), status_code=status, media_type=JSON)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _route_error(404, "not_found", f"no route for {request.method} {request.url.path}")


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return _route_error(405, "method_not_allowed", f"{request.method} is not allowed here")


def _route_error(status: int, code: str, message: str) -> Response:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)


def create_app(gateway: Gateway, settings: ServerSettings | None = None) -> Starlette:
    """Build the service around a gateway; the app owns the gateway's lifecycle."""
    settings = settings or gateway.config.server
    master_key = settings.master_key.get_secret_value() if settings.master_key else None
    # the key ring itself when there is one (one coroutine less per request)
    keys = gateway.keyring.authenticate if gateway.keyring else gateway.authenticate_key
    auth = Authenticator(master_key, keys)
    drain = Drain()
    openai = OpenAIDoor(gateway, settings, drain)
    operations = OperationsDoor(gateway)
    admin = AdminDoor(gateway, settings)
    usage = UsageDoor(gateway)
    cache = CacheDoor(gateway, settings.body_timeout_seconds)
    health = Health(gateway, auth, drain)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        aliases = [m.id for m in gateway.models() if m.alias]
        announce(settings.host, settings.port, aliases, gateway.provider_names())
        # Everything built so far lives as long as the process: keep it out of the cyclic GC's
        # generations so full collections scan only per-request garbage (shorter pauses).
        gc.collect()
        gc.freeze()
        health.ready = True
        try:
            yield
        finally:
            health.ready = False
            await gateway.aclose()

    routes = [
        Route("/v1/chat/completions", openai.chat_completions, methods=["POST"]),
        Route("/v1/embeddings", openai.embeddings, methods=["POST"]),
        Route("/v1/models", openai.models, methods=["GET"]),
        Route("/api/v1/providers", operations.providers, methods=["GET"]),
        Route("/api/v1/providers/{name}/test", operations.test_provider, methods=["POST"]),
        Route("/api/v1/circuit-breakers", operations.circuit_breakers, methods=["GET"]),
        Route("/api/v1/circuit-breakers/reset", operations.reset_breaker, methods=["POST"]),
        Route(
            "/api/v1/circuit-breakers/{provider}/{model:path}/reset",
            operations.reset_breaker,
            methods=["POST"],
        ),
        Route("/api/v1/admin/tenants", admin.create_tenant, methods=["POST"]),
        Route("/api/v1/admin/tenants", admin.tenants, methods=["GET"]),
        Route("/api/v1/admin/tenants/{name}", admin.tenant, methods=["GET"]),
        Route("/api/v1/admin/tenants/{name}", admin.delete_tenant, methods=["DELETE"]),
        Route("/api/v1/admin/keys", admin.create_key, methods=["POST"]),
        Route("/api/v1/admin/keys", admin.keys, methods=["GET"]),
        Route("/api/v1/admin/keys/{id}", admin.revoke_key, methods=["DELETE"]),
        Route("/api/v1/usage/summary", usage.summary, methods=["GET"]),
        Route("/api/v1/monitoring/health", health.monitoring, methods=["GET"]),
        Route("/api/v1/cache/stats", cache.stats, methods=["GET"]),
        Route("/api/v1/cache/clear", cache.clear, methods=["POST"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", MetricsEndpoint(gateway).scrape, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(
                Guard,
                auth=auth,
                max_concurrent=settings.max_concurrent_requests,
                drain=drain,
                tracing=gateway.tracing,
            )
        ],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
    # "/v1/chat/completions/" would be redirected to a Location built from the Host header
    app.router.redirect_slashes = False
    app.state.gateway = gateway
    app.state.health = health
    app.state.drain = drain
    return app


__all__ = ["create_app"]
