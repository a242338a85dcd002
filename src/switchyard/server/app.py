"""The ASGI application: routes of every front door plus the operational endpoints."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp

from switchyard import __version__
from switchyard.config.schema import ServerSettings
from switchyard.doors.anthropic.routes import AnthropicDoor
from switchyard.doors.drain import Drain
from switchyard.doors.gemini.errors import PATHS as GEMINI_PATHS
from switchyard.doors.gemini.errors import google_client, google_error
from switchyard.doors.gemini.routes import GeminiDoor
from switchyard.doors.graphql.wire import PATH as GRAPHQL_PATH
from switchyard.doors.graphql.wire import error_body as graphql_error
from switchyard.doors.http import Authenticator
from switchyard.doors.native.admin import AdminDoor
from switchyard.doors.native.cache import CacheDoor
from switchyard.doors.native.comparison import ComparisonDoor
from switchyard.doors.native.completions import CompletionDoor
from switchyard.doors.native.error_types import error_to_native
from switchyard.doors.native.openapi import OpenAPIDoor
from switchyard.doors.native.operations import OperationsDoor
from switchyard.doors.native.sessions import SessionDoor
from switchyard.doors.native.socket import CompletionSocket
from switchyard.doors.native.templates import TemplatesDoor
from switchyard.doors.native.usage import UsageDoor
from switchyard.doors.openai.routes import OpenAIDoor
from switchyard.doors.responses.routes import ResponsesDoor
from switchyard.doors.ui.door import DashboardDoor
from switchyard.gateway import Gateway
from switchyard.server.client_address import ClientAddress
from switchyard.server.guard import ANTHROPIC_PATHS, Guard
from switchyard.server.health import DependencyHealth
from switchyard.server.logs import announce
from switchyard.server.metrics import MetricsEndpoint, multiprocess_mode

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
    path = request.url.path
    return _route_error(path, 404, "not_found", f"no route for {request.method} {path}")


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    message = f"{request.method} is not allowed here"
    return _route_error(request.url.path, 405, "method_not_allowed", message)


def _route_error(path: str, status: int, code: str, message: str) -> Response:
    """In OpenAI's error JSON, or Anthropic's or Google's under those doors' paths."""
    body: dict[str, object]
    if path.startswith(GEMINI_PATHS):
        body = google_error(status, message)
    elif path.startswith(ANTHROPIC_PATHS):
        kind = "not_found_error" if status == 404 else "invalid_request_error"
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": code,
            }
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
    anthropic = AnthropicDoor(gateway, settings, drain)
    gemini = GeminiDoor(gateway, settings, drain)
    responses = ResponsesDoor(gateway, settings, drain)
    operations = OperationsDoor(gateway)
    admin = AdminDoor(gateway, settings)
    templates = TemplatesDoor(gateway, settings)
    usage = UsageDoor(gateway)
    cache = CacheDoor(gateway, settings.body_timeout_seconds)
    comparison = ComparisonDoor(gateway, settings)
    health = Health(gateway, auth, drain)
    native = CompletionDoor(gateway, settings, drain)
    native_socket = CompletionSocket(gateway, native, auth, drain)
    sessions = SessionDoor(gateway, settings, native, drain)
    openapi = OpenAPIDoor(__version__)
    metrics = MetricsEndpoint(gateway)

    async def models(request: Request) -> Response:
        """``GET /v1/models``: Google's model list to a Google SDK, else the OpenAI door's
        (which answers Anthropic's shape to the ``anthropic`` SDK)."""
        if google_client(request.scope["headers"]):
            return await gemini.models(request)
        return await openai.models(request)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        aliases = [m.id for m in gateway.models() if m.alias]
        scheme = "https" if settings.ssl_certfile else "http"
        announce(scheme, settings.host, settings.port, aliases, gateway.provider_names())
        # Everything built so far lives as long as the process: keep it out of the cyclic GC's
        # generations so full collections scan only per-request garbage (shorter pauses).
        gc.collect()
        gc.freeze()
        health.ready = True
        gauges = None
        if multiprocess_mode():  # other workers answer scrapes too: keep this one's gauges set
            gauges = asyncio.create_task(metrics.refresh_gauges(app))
        try:
            yield
        finally:
            health.ready = False
            if gauges is not None:
                gauges.cancel()
            await gateway.aclose()

    routes: list[BaseRoute] = [
        Route("/v1/chat/completions", openai.chat_completions, methods=["POST"]),
        Route("/v1/embeddings", openai.embeddings, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/api/v1/complete", native.complete, methods=["POST"]),
        Route("/api/v1/complete/stream", native.stream, methods=["POST"]),
        WebSocketRoute("/api/v1/complete/ws", native_socket.handle),
        Route("/api/v1/models", native.models, methods=["GET"]),
        Route("/api/v1/comparison", comparison.compare, methods=["POST"]),
        Route("/api/v1/sessions", sessions.create, methods=["POST"]),
        Route("/api/v1/sessions", sessions.index, methods=["GET"]),
        Route("/api/v1/sessions/{id}", sessions.get, methods=["GET"]),
        Route("/api/v1/sessions/{id}", sessions.delete, methods=["DELETE"]),
        Route("/api/v1/sessions/{id}/messages", sessions.message, methods=["POST"]),
        Route("/api/v1/openapi.json", openapi.openapi, methods=["GET"]),
        Route("/docs", openapi.docs, methods=["GET"]),
        Route("/v1/messages", anthropic.messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", anthropic.count_tokens, methods=["POST"]),
        Route("/v1beta/models", gemini.models, methods=["GET"]),
        Route("/v1beta/models/{name:path}", gemini.model, methods=["GET"]),
        Route("/v1beta/models/{target:path}", gemini.post, methods=["POST"]),
        Route("/v1/models/{name:path}", gemini.model, methods=["GET"]),  # google-genai's v1
        Route("/v1/models/{target:path}", gemini.post, methods=["POST"]),
        Route("/v1/responses", responses.create, methods=["POST"]),
        Route("/v1/responses/{id}", responses.retrieve, methods=["GET"]),
        Route("/v1/responses/{id}", responses.delete, methods=["DELETE"]),
        Route("/v1/responses/{id}/input_items", responses.input_items, methods=["GET"]),
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
        Route("/api/v1/admin/templates", templates.create, methods=["POST"]),
        Route("/api/v1/admin/templates", templates.latest, methods=["GET"]),
        Route("/api/v1/admin/templates/{name}", templates.versions, methods=["GET"]),
        Route(
            "/api/v1/admin/templates/{name}/versions/{version}", templates.version, methods=["GET"]
        ),
        Route("/api/v1/usage/summary", usage.summary, methods=["GET"]),
        Route("/api/v1/monitoring/health", health.monitoring, methods=["GET"]),
        Route("/api/v1/cache/stats", cache.stats, methods=["GET"]),
        Route("/api/v1/cache/clear", cache.clear, methods=["POST"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", metrics.scrape, methods=["GET"]),
    ]
    routes += DashboardDoor(gateway, settings, auth).routes()  # /ui: its own session login
    graphql = _graphql_door(gateway, settings, auth, health, drain)
    if graphql is not None:  # GET (GraphiQL, queries), POST, and the subscriptions' socket
        routes.append(Route("/graphql", graphql, methods=["GET", "POST"]))
        routes.append(WebSocketRoute("/graphql", graphql))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(
                Guard,
                auth=auth,
                max_concurrent=settings.max_concurrent_requests,
                drain=drain,
                # native completion, comparison and session routes, GraphQL: errors in their shape
                renderers=[
                    ("/api/v1/complete", error_to_native),
                    ("/api/v1/models", error_to_native),
                    ("/api/v1/comparison", error_to_native),
                    ("/api/v1/sessions", error_to_native),
                    (GRAPHQL_PATH, graphql_error),
                ],
                clients=ClientAddress(settings.trusted_proxies),
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


def _graphql_door(
    gateway: Gateway,
    settings: ServerSettings,
    auth: Authenticator,
    health: Health,
    drain: Drain,
) -> ASGIApp | None:
    """The GraphQL door, when the ``graphql`` extra (Strawberry) is installed."""
    try:
        from switchyard.doors.graphql.view import GraphQLDoor
    except ModuleNotFoundError as missing:
        if missing.name is not None and missing.name.split(".")[0] in {"strawberry", "graphql"}:
            return None
        raise
    return GraphQLDoor(gateway, settings, auth, health.dependencies.report, drain)


__all__ = ["create_app"]
