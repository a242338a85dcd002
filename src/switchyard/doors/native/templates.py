"""The admin API's prompt templates, for the master key only.

    POST /api/v1/admin/templates                  a definition ``{"name", "messages" |
                                                  "template", "system"?, "variables"?,
                                                  "schema"?, "description"?}`` -> 201, the new
                                                  version (1 for a new name; never overwrites)
    GET  /api/v1/admin/templates                  every template's latest version
    GET  /api/v1/admin/templates/{name}           its versions, oldest first
    GET  /api/v1/admin/templates/{name}/versions/{version}

Config templates are listed too (``"source": "config"``) and are read-only: a POST of a name
the config defines is 409. Without ``storage`` a POST is 501 ``not_configured``; the GETs
still list the config's. Errors are OpenAI's error JSON, like the rest of the admin API; what
a template may be is :mod:`switchyard.templates`' business.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.config.schema import ServerSettings
from switchyard.doors.http import (
    JSON,
    ClientDisconnected,
    json_error,
    new_context,
    principal_of,
    read_json,
)
from switchyard.doors.native.admin import parse_body
from switchyard.errors import AdminRequired, InvalidRequest, SwitchyardError
from switchyard.formats.openai_errors import error_to_openai
from switchyard.gateway import Gateway
from switchyard.templates.library import TemplateLibrary
from switchyard.templates.settings import TemplateSpec

Handler = Callable[[Request, TemplateLibrary], Awaitable[tuple[int, dict[str, Any]]]]


class TemplatesDoor:
    def __init__(self, gateway: Gateway, settings: ServerSettings) -> None:
        self.gateway = gateway
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds

    async def create(self, request: Request) -> Response:
        async def handle(request: Request, library: TemplateLibrary) -> tuple[int, dict[str, Any]]:
            body = await read_json(request, self.max_body_bytes, self.body_timeout)
            if "version" in body:
                raise InvalidRequest(
                    "Invalid 'version': assigned by the gateway (the next one).", param="version"
                )
            made = await library.create(parse_body(TemplateSpec, body))
            return 201, made.public()

        return await self._answer(request, handle)

    async def latest(self, request: Request) -> Response:
        async def handle(request: Request, library: TemplateLibrary) -> tuple[int, dict[str, Any]]:
            return 200, {"object": "list", "data": [t.public() for t in await library.latest()]}

        return await self._answer(request, handle)

    async def versions(self, request: Request) -> Response:
        async def handle(request: Request, library: TemplateLibrary) -> tuple[int, dict[str, Any]]:
            name = request.path_params["name"]
            found = await library.versions(name)
            return 200, {"object": "list", "name": name, "data": [t.public() for t in found]}

        return await self._answer(request, handle)

    async def version(self, request: Request) -> Response:
        async def handle(request: Request, library: TemplateLibrary) -> tuple[int, dict[str, Any]]:
            raw = request.path_params["version"]
            if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
                raise InvalidRequest(
                    f"version must be a positive integer, not {raw!r}", param="version"
                )
            found = await library.version(request.path_params["name"], int(raw))
            return 200, found.public()

        return await self._answer(request, handle)

    async def _answer(self, request: Request, handle: Handler) -> Response:
        """Run ``handle`` for an admin caller; render its answer or its error."""
        context = new_context(request)
        try:
            if not principal_of(request).admin:
                raise AdminRequired("this route needs the master key")
            status, body = await handle(request, self.gateway.templates)
        except SwitchyardError as error:
            return json_error(error, error_to_openai(error), context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps(body), status_code=status, media_type=JSON, headers=context.headers()
        )


__all__ = ["TemplatesDoor"]
