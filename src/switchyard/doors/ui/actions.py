"""The dashboard's forms: each POST (its CSRF token already checked) does one thing through
the Gateway's queries or the accounts the admin API uses, and answers the message the next
page shows once."""

from __future__ import annotations

from pydantic import ValidationError

from switchyard.doors.ui.visit import Visit
from switchyard.errors import AdminRequired, InvalidRequest, NotConfigured
from switchyard.gateway import Gateway
from switchyard.tenancy.accounts import Accounts
from switchyard.tenancy.settings import KeySpec, TenantSettings

MAX_FIELD = 256


def _accounts(gateway: Gateway, visit: Visit) -> Accounts:
    if not visit.admin:
        raise AdminRequired("this action needs the master key")
    if gateway.accounts is None:
        raise NotConfigured("tenants and keys need a storage section in the config")
    return gateway.accounts


def _field(visit: Visit, name: str, *, required: bool = False) -> str | None:
    value = visit.form.get(name, "").strip()
    if len(value) > MAX_FIELD:
        raise InvalidRequest(f"{name}: at most {MAX_FIELD} characters", param=name)
    if required and not value:
        raise InvalidRequest(f"{name} is required", param=name)
    return value or None


def _models(visit: Visit) -> list[str] | None:
    text = _field(visit, "models")
    return None if text is None else [m.strip() for m in text.split(",") if m.strip()]


def _invalid(exc: ValidationError) -> InvalidRequest:
    error = exc.errors(include_url=False)[0]
    param = ".".join(str(part) for part in error["loc"]) or "form"
    return InvalidRequest(f"Invalid '{param}': {error['msg']}.", param=param)


async def test_provider(gateway: Gateway, visit: Visit, name: str) -> str:
    if not visit.admin:
        raise AdminRequired("testing a provider needs the master key")
    _, result = await gateway.test_provider(name)
    status = "unknown" if result.ok is None else "healthy" if result.ok else "down"
    detail = f" ({result.error.message})" if result.error is not None else ""
    return f"test of {name}: {status}{detail}"


async def create_key(gateway: Gateway, visit: Visit) -> str:
    accounts = _accounts(gateway, visit)
    try:
        spec = KeySpec.model_validate(
            {
                "tenant": _field(visit, "tenant", required=True),
                "name": _field(visit, "name"),
                "user": _field(visit, "user"),
                "models": _models(visit),
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    row, secret = await accounts.create_key(spec)
    return (
        f"key {row.id} created for tenant {row.tenant}; "
        f"copy it now, it is not shown again: {secret}"
    )


async def revoke_key(gateway: Gateway, visit: Visit, key_id: str) -> str:
    row = await _accounts(gateway, visit).revoke_key(key_id)
    return f"key {row.id} revoked"


async def create_tenant(gateway: Gateway, visit: Visit) -> str:
    accounts = _accounts(gateway, visit)
    try:
        tenant = TenantSettings.model_validate(
            {"name": _field(visit, "name", required=True), "models": _models(visit)}
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    await accounts.create_tenant(tenant)
    return f"tenant {tenant.name} created"


async def delete_tenant(gateway: Gateway, visit: Visit, name: str) -> str:
    await _accounts(gateway, visit).delete_tenant(name)
    return f"tenant {name} deleted"


__all__ = ["create_key", "create_tenant", "delete_tenant", "revoke_key", "test_provider"]
