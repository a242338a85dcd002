"""The admin API: tenants and virtual keys, for the master key only.

    POST   /api/v1/admin/tenants          a tenant (the fields of a ``tenants:`` item)  -> 201
    GET    /api/v1/admin/tenants          every tenant, the config's and the API's
    GET    /api/v1/admin/tenants/{name}   one
    DELETE /api/v1/admin/tenants/{name}   one made through the API; 409 while it has live keys
    POST   /api/v1/admin/keys             a key ``{"tenant", "user"?, "name"?, "models"?,
                                          "limits"?, "budget"?, "expires_at"?, "metadata"?}``
                                          -> 201 ``{"id", "key", ...}``: the only time the
                                          secret is shown
    GET    /api/v1/admin/keys             every key (``?tenant=`` for one tenant's), never the
                                          secret nor its hash
    DELETE /api/v1/admin/keys/{id}        revoke; answers the revoked key

The guard lets only admin principals (the master key) reach ``/api/v1/admin/*``; this door
checks again, so a route mounted without that rule still refuses (403 ``admin_required``).
Without ``storage`` in the config there is nowhere to keep keys: 501 ``not_configured``. What
may be created is :class:`~switchyard.tenancy.accounts.Accounts`'s business; this module reads
bodies, turns pydantic's complaints into 400s naming the field, and renders. The secret is in
one response body and nowhere else: never logged, never in an error.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from switchyard.config.schema import ServerSettings
from switchyard.doors.http import (
    JSON,
    ClientDisconnected,
    RequestContext,
    json_error,
    new_context,
    principal_of,
    read_json,
)
from switchyard.errors import AdminRequired, InvalidRequest, NotConfigured, SwitchyardError
from switchyard.formats.openai_errors import error_to_openai
from switchyard.gateway import Gateway
from switchyard.tenancy.settings import KeySpec, TenantSettings

if TYPE_CHECKING:  # the storage extra's SQLAlchemy: a server without storage never imports it
    from switchyard.tenancy.accounts import Accounts

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[[Request, "Accounts"], Awaitable[tuple[int, dict[str, Any]]]]

NO_STORAGE = (
    "tenants and keys are kept in the database: add a storage section to the config "
    '(storage: {url: "sqlite+aiosqlite:///switchyard.db"}) and restart'
)


class AdminDoor:
    def __init__(self, gateway: Gateway, settings: ServerSettings) -> None:
        self.gateway = gateway
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout_seconds

    # -- tenants ----------------------------------------------------------------------------

    async def create_tenant(self, request: Request) -> Response:
        async def handle(request: Request, accounts: Accounts) -> tuple[int, dict[str, Any]]:
            tenant = parse_body(TenantSettings, await self._body(request))
            return 201, await accounts.create_tenant(tenant)

        return await self._answer(request, handle)

    async def tenants(self, request: Request) -> Response:
        async def handle(request: Request, accounts: Accounts) -> tuple[int, dict[str, Any]]:
            return 200, {"object": "list", "data": await accounts.tenants()}

        return await self._answer(request, handle)

    async def tenant(self, request: Request) -> Response:
        async def handle(request: Request, accounts: Accounts) -> tuple[int, dict[str, Any]]:
            return 200, await accounts.tenant_view(request.path_params["name"])

        return await self._answer(request, handle)

    async def delete_tenant(self, request: Request) -> Response:
        async def handle(request: Request, accounts: Accounts) -> tuple[int, dict[str, Any]]:
            name = request.path_params["name"]
            await accounts.delete_tenant(name)
            return 200, {"name": name, "deleted": True}

        return await self._answer(request, handle)

    # -- keys -------------------------------------------------------------------------------

    async def create_key(self, request: Request) -> Response:
        async def handle(request: Request, accounts: Accounts) -> tuple[int, dict[str, Any]]:
            spec = parse_body(KeySpec, await self._body(request))
            row, secret = await accounts.create_key(spec)
            return 201, {"id": row.id, "key": secret, **row.public()}

        return await self._answer(request, handle)

    async def keys(self, request: Request) -> Response:
        async def handle(request: Request, accounts: Accounts) -> tuple[int, dict[str, Any]]:
            tenant = request.query_params.get("tenant") or None
            rows = await accounts.keys(tenant)
            return 200, {"object": "list", "data": [row.public() for row in rows]}

        return await self._answer(request, handle)

    async def revoke_key(self, request: Request) -> Response:
        async def handle(request: Request, accounts: Accounts) -> tuple[int, dict[str, Any]]:
            row = await accounts.revoke_key(request.path_params["id"])
            return 200, row.public()

        return await self._answer(request, handle)

    # -- shared -----------------------------------------------------------------------------

    async def _answer(self, request: Request, handle: Handler) -> Response:
        """Run ``handle`` for an admin caller on a gateway with storage; render its answer or
        its error in the OpenAI error shape."""
        context = new_context(request)
        try:
            if not principal_of(request).admin:
                raise AdminRequired("this route needs the master key")
            accounts = self.gateway.accounts
            if accounts is None:
                raise NotConfigured(NO_STORAGE)
            status, body = await handle(request, accounts)
        except SwitchyardError as error:
            return _error(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps(body), status_code=status, media_type=JSON, headers=context.headers()
        )

    async def _body(self, request: Request) -> dict[str, Any]:
        return await read_json(request, self.max_body_bytes, self.body_timeout)


def parse_body(model: type[ModelT], body: dict[str, Any]) -> ModelT:
    """``body`` as ``model``, or 400 whose ``param`` is the first field at fault (``budget.usd``,
    ``models[0]``; an unknown field is named too; a whole-object check that says
    ``"<field>: <problem>"`` names its field)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        param = _param(error["loc"])
        problem = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            problem = "unknown field"
        named = _NAMED.match(problem) if param == "body" else None
        if named is not None:
            param, problem = named.group(1), named.group(2)
        raise InvalidRequest(f"Invalid '{param}': {problem}.", param=param) from None


_NAMED = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.DOTALL)


def _param(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "body"


def _error(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_openai(error), context)


__all__ = ["NO_STORAGE", "AdminDoor", "parse_body"]
