"""Operations endpoints of the native API: provider health and circuit breakers.

    GET  /api/v1/providers                         providers, their deployments' health+breaker
    POST /api/v1/providers/{name}/test             a live probe now (?mode=health|chat, ?model=)
    GET  /api/v1/circuit-breakers                  every deployment's breaker
    POST /api/v1/circuit-breakers/{provider}/{model}/reset    (or .../reset?key=provider/model)

Every route needs the master key when one is configured (the app's guard checks it; without
one the server listens on loopback only). Answers are JSON; errors use the same
``{"error": {"message", "type", "param", "code"}}`` shape as the OpenAI door, so one client
handles both. A provider that fails its test is not an error of this endpoint: the answer is
200 with ``{"ok": false, "status": "down", "error": {...}}``; one that has no way to check
answers ``{"ok": null, "status": "unknown"}``. Everything shown comes from the Gateway's
queries (:mod:`switchyard.status`); this module only renders.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.doors.http import JSON, RequestContext, json_error, new_context
from switchyard.errors import SwitchyardError
from switchyard.formats.openai_errors import error_to_openai
from switchyard.gateway import Gateway
from switchyard.routing.probes import ProbeResult
from switchyard.status import DeploymentStatus, ProviderStatus


class OperationsDoor:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def providers(self, request: Request) -> Response:
        context = new_context(request)
        report = await self.gateway.provider_status()
        body: dict[str, Any] = {"object": "list"}
        if report.breaker_store_error is not None:  # the shared store is down: show the rest
            body["breaker_store_error"] = error_to_openai(report.breaker_store_error)["error"]
        body["data"] = [_provider(p) for p in report.providers]
        return _json(body, context)

    async def test_provider(self, request: Request) -> Response:
        context = new_context(request)
        name = request.path_params["name"]
        mode = request.query_params.get("mode", "health")
        try:
            model, result = await self.gateway.test_provider(
                name, mode, request.query_params.get("model")
            )
        except SwitchyardError as error:
            return _error(error, context)
        body: dict[str, Any] = {"provider": name, "mode": mode, "model": model}
        body.update(_result(result))
        return _json(body, context)

    async def circuit_breakers(self, request: Request) -> Response:
        context = new_context(request)
        try:
            deployments = await self.gateway.breaker_status()
        except SwitchyardError as error:
            return _error(error, context)
        data = [
            {
                "provider": d.provider,
                "model": d.model,
                **(d.breaker.model_dump() if d.breaker is not None else {"key": d.key}),
            }
            for d in deployments
        ]
        return _json({"object": "list", "data": data}, context)

    async def reset_breaker(self, request: Request) -> Response:
        """Close a deployment's breaker now and forget its history (an admin action)."""
        context = new_context(request)
        params = request.path_params
        if "provider" in params:
            key = f"{params['provider']}/{params['model']}"
        else:
            key = request.query_params.get("key", "")
        try:
            had_state, view = await self.gateway.reset_breaker(key)
        except SwitchyardError as error:
            return _error(error, context)
        body = {"key": key, "reset": True, "had_state": had_state, "breaker": view.model_dump()}
        return _json(body, context)


def _provider(status: ProviderStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "type": status.type,
        "capabilities": status.capabilities.model_dump(),
        "status": status.status,
        "probe": {
            "enabled": status.probe_enabled,
            "interval_seconds": status.probe_interval_seconds,
            "last": None if status.last_probe is None else _result(status.last_probe),
        },
        "deployments": [_deployment(d) for d in status.deployments],
    }


def _deployment(deployment: DeploymentStatus) -> dict[str, Any]:
    breaker = deployment.breaker
    return {
        "key": deployment.key,
        "model": deployment.model,
        **deployment.health.model_dump(exclude={"key"}),
        "breaker": None if breaker is None else breaker.model_dump(exclude={"key"}),
    }


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


def _error(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_openai(error), context)


def _json(body: dict[str, Any], context: RequestContext) -> Response:
    return Response(orjson.dumps(body), media_type=JSON, headers=context.headers())


__all__ = ["OperationsDoor"]
