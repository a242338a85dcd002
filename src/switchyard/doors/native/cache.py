"""The response cache's endpoints of the native API.

    GET  /api/v1/cache/stats    backend, hits, misses, hit rate, entries, bytes, dollars saved
    POST /api/v1/cache/clear    {} everything, {"model": alias}, {"tenant": name}, or both

A tenant's key sees the stats of its tenant's namespace only; the master key (or the admin of
a server without keys) sees every namespace together, or one with ``?tenant=name``. Clearing
needs the master key. Without a ``cache:`` section both answer 501 ``not_configured``. Errors
use the OpenAI error shape, like every native endpoint.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.cache.service import CacheStats, ResponseCache
from switchyard.doors.http import (
    JSON,
    RequestContext,
    json_error,
    new_context,
    principal_of,
    read_json,
)
from switchyard.errors import AdminRequired, InvalidRequest, NotConfigured, SwitchyardError
from switchyard.formats.openai_errors import error_to_openai
from switchyard.gateway import Gateway

_CLEAR_FIELDS = frozenset({"model", "tenant"})
_MAX_BODY = 64 * 1024


class CacheDoor:
    def __init__(self, gateway: Gateway, body_timeout: float = 10.0) -> None:
        self.gateway = gateway
        self.body_timeout = body_timeout

    async def stats(self, request: Request) -> Response:
        context = new_context(request)
        try:
            cache = self._cache()
            principal = principal_of(request)
            if principal.admin:
                tenant = request.query_params.get("tenant")
                stats = await cache.stats(tenant, every=tenant is None)
            else:  # a tenant's key: its own namespace, whatever it asks
                stats = await cache.stats(principal.tenant, every=False)
        except SwitchyardError as error:
            return _error(error, context)
        return _json(_stats(stats), context)

    async def clear(self, request: Request) -> Response:
        context = new_context(request)
        try:
            cache = self._cache()
            if not principal_of(request).admin:
                raise AdminRequired("clearing the response cache needs the master key")
            body = await self._body(request)
            alias, tenant = _text(body, "model"), _text(body, "tenant")
            cleared = await cache.clear(alias=alias, tenant=tenant, every=tenant is None)
        except SwitchyardError as error:
            return _error(error, context)
        return _json({"cleared": cleared, "model": alias, "tenant": tenant}, context)

    def _cache(self) -> ResponseCache:
        cache = self.gateway.cache
        if cache is None:
            raise NotConfigured("the response cache is not configured (no cache section)")
        return cache

    async def _body(self, request: Request) -> dict[str, Any]:
        headers = request.headers
        if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
            return {}
        body = await read_json(request, _MAX_BODY, self.body_timeout)
        unknown = sorted(set(body) - _CLEAR_FIELDS)
        if unknown:
            raise InvalidRequest(
                f"unknown field {unknown[0]!r}; expected model and/or tenant", param=unknown[0]
            )
        return body


def _text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidRequest(f"{field} must be a non-empty string", param=field)
    return value


def _stats(stats: CacheStats) -> dict[str, Any]:
    counts = stats.stats
    return {
        "object": "cache.stats",
        "backend": stats.backend,
        "tenant": stats.tenant,
        "all_tenants": stats.every,
        "hits": counts.hits,
        "misses": counts.misses,
        "hit_rate": round(stats.hit_rate, 6),
        "entries": counts.entries,
        "bytes": counts.bytes,
        "saved_usd": round(counts.saved_usd, 10),
        "backend_errors": stats.errors,
    }


def _error(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_openai(error), context)


def _json(body: dict[str, Any], context: RequestContext) -> Response:
    return Response(orjson.dumps(body), media_type=JSON, headers=context.headers())


__all__ = ["CacheDoor"]
