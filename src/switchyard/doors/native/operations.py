"""Operations endpoints of the native API: provider health and circuit breakers.

    GET  /api/v1/providers                         providers, their deployments' health+breaker
    POST /api/v1/providers/{name}/test             a live probe now (?mode=health|chat, ?model=)
    GET  /api/v1/circuit-breakers                  every deployment's breaker
    POST /api/v1/circuit-breakers/{provider}/{model}/reset    (or .../reset?key=provider/model)

Every route needs the master key when one is configured (without one the server listens on
loopback only). Answers are JSON; errors are OpenAI's error JSON, as on every other route. A
provider that fails its test is not an error of this endpoint: the answer is 200 with
``{"ok": false, "status": "down", "error": {...}}``; one that has no way to check answers
``{"ok": null, "status": "unknown"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.doors.http import Authenticator, RequestContext, new_context
from switchyard.doors.openai.routes import error_response
from switchyard.errors import InvalidRequest, ModelNotFound, SwitchyardError
from switchyard.formats.openai_chat import error_to_openai
from switchyard.gateway import Gateway
from switchyard.providers.base import Provider
from switchyard.resilience.breaker import BreakerView
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthView
from switchyard.routing.probes import ProbeResult, check_chat

JSON = "application/json"
_MODES = ("health", "chat")


class OperationsDoor:
    def __init__(self, gateway: Gateway, auth: Authenticator) -> None:
        self.gateway = gateway
        self.auth = auth

    # -- providers --------------------------------------------------------------------------

    async def providers(self, request: Request) -> Response:
        context = new_context(request)
        try:
            self.auth.check(request.headers)
        except SwitchyardError as error:
            return error_response(error, context)
        candidates = self.gateway.router.candidates()
        body: dict[str, Any] = {"object": "list"}
        try:
            views = await self.gateway.breakers.views([c.key for c in candidates])
            breakers: dict[str, BreakerView] = {view.key: view for view in views}
        except SwitchyardError as error:  # the shared breaker store is down: show the rest
            breakers = {}
            body["breaker_store_error"] = error_to_openai(error)["error"]
        body["data"] = [
            self._provider(name, provider, candidates, breakers)
            for name, provider in self.gateway.providers.items()
        ]
        return _json(body, context)

    def _provider(
        self,
        name: str,
        provider: Provider[Any],
        candidates: Sequence[Candidate],
        breakers: dict[str, BreakerView],
    ) -> dict[str, Any]:
        health = self.gateway.health
        deployments = []
        for candidate in candidates:
            if candidate.provider is not provider:
                continue
            view = health.view(candidate.key)
            breaker = breakers.get(candidate.key)
            deployments.append(
                {
                    "key": candidate.key,
                    "model": candidate.model,
                    **view.model_dump(exclude={"key"}),
                    "breaker": None if breaker is None else breaker.model_dump(exclude={"key"}),
                }
            )
        probe = provider.settings.probe
        last = self.gateway.prober.results.get(name)
        return {
            "name": name,
            "type": provider.settings.type,
            "capabilities": provider.capabilities.model_dump(),
            "status": _provider_status([health.view(d["key"]) for d in deployments], last),
            "probe": {
                "enabled": provider.settings.probe_enabled(),
                "interval_seconds": probe.interval_seconds,
                "last": None if last is None else _result(last),
            },
            "deployments": deployments,
        }

    async def test_provider(self, request: Request) -> Response:
        context = new_context(request)
        name = request.path_params["name"]
        try:
            self.auth.check(request.headers)
            provider = self.gateway.providers.get(name)
            if provider is None:
                known = ", ".join(sorted(self.gateway.providers)) or "none"
                raise ModelNotFound(f"unknown provider {name!r} (configured: {known})")
            mode = request.query_params.get("mode", "health")
            if mode not in _MODES:
                raise InvalidRequest(f"mode must be one of {', '.join(_MODES)}", param="mode")
            if mode == "health":
                result = await self.gateway.prober.probe(name)
                model = None
            else:
                model, result = await self._chat_probe(name, provider, request)
        except SwitchyardError as error:
            return error_response(error, context)
        body: dict[str, Any] = {"provider": name, "mode": mode, "model": model}
        body.update(_result(result))
        return _json(body, context)

    async def _chat_probe(
        self, name: str, provider: Provider[Any], request: Request
    ) -> tuple[str, ProbeResult]:
        mine = [c for c in self.gateway.router.candidates() if c.provider is provider]
        model = request.query_params.get("model") or (mine[0].model if mine else None)
        if model is None:
            raise InvalidRequest(
                f"provider {name!r} has no configured deployment: name one with ?model=",
                param="model",
            )
        candidate = next((c for c in mine if c.model == model), None)
        if candidate is not None:
            timeout = candidate.timeout.total
        elif provider.settings.timeout is not None:
            timeout = provider.settings.timeout.total
        else:
            timeout = self.gateway.config.router.deadline_seconds
        result = await check_chat(provider, model, timeout)
        self.gateway.prober.record(name, result, [candidate.key] if candidate else [])
        return model, result

    # -- circuit breakers -------------------------------------------------------------------

    async def circuit_breakers(self, request: Request) -> Response:
        context = new_context(request)
        try:
            self.auth.check(request.headers)
            candidates = self.gateway.router.candidates()
            views = await self.gateway.breakers.views([c.key for c in candidates])
        except SwitchyardError as error:
            return error_response(error, context)
        data = [
            {"provider": c.provider.name, "model": c.model, **view.model_dump()}
            for c, view in zip(candidates, views, strict=True)
        ]
        return _json({"object": "list", "data": data}, context)

    async def reset_breaker(self, request: Request) -> Response:
        """Close a deployment's breaker now and forget its history (an admin action)."""
        context = new_context(request)
        params = request.path_params
        try:
            self.auth.check(request.headers)
            if "provider" in params:
                key = f"{params['provider']}/{params['model']}"
            else:
                key = request.query_params.get("key", "")
            self._known_deployment(key)
            had_state = await self.gateway.breakers.reset(key)
            [view] = await self.gateway.breakers.views([key])
        except SwitchyardError as error:
            return error_response(error, context)
        body = {"key": key, "reset": True, "had_state": had_state, "breaker": view.model_dump()}
        return _json(body, context)

    def _known_deployment(self, key: str) -> None:
        provider, sep, model = key.partition("/")
        if not sep or not model:
            raise InvalidRequest("name the deployment as provider/model", param="key")
        configured = {c.key for c in self.gateway.router.candidates()}
        if key not in configured and provider not in self.gateway.providers:
            raise ModelNotFound(f"unknown deployment {key!r}", param="key")


def _result(result: ProbeResult) -> dict[str, Any]:
    status = "unknown" if result.ok is None else "healthy" if result.ok else "down"
    body: dict[str, Any] = {
        "ok": result.ok,
        "status": status,
        "latency_ms": round(result.seconds * 1000.0, 2),
        "at": result.at,
    }
    if result.error is not None:
        error = error_to_openai(result.error)["error"]
        body["error"] = {
            "type": error["type"],
            "code": error["code"],
            "message": error["message"],
            "upstream_status": result.error.upstream_status,
        }
    return body


def _provider_status(views: list[HealthView], last: ProbeResult | None) -> str:
    """The provider's overall state: down when its last probe failed; else from its
    deployments' (all healthy: healthy, all down: down, a mix: degraded); else the probe's."""
    if last is not None and last.ok is False:
        return "down"
    statuses = {view.status for view in views} - {"unknown"}
    if not statuses:
        return "healthy" if last is not None and last.ok else "unknown"
    if statuses == {"down"}:
        return "down"
    if statuses == {"healthy"}:
        return "healthy"
    return "degraded"


def _json(body: dict[str, Any], context: RequestContext) -> Response:
    return Response(orjson.dumps(body), media_type=JSON, headers=context.headers())


__all__ = ["OperationsDoor"]
