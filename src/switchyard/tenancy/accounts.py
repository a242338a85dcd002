"""Tenants and keys as the admin API, the CLI and the library manage them.

Tenants come from the config (fixed; changed by editing it) and from the admin API (stored).
A key belongs to one tenant and may narrow its models; its secret is returned once, by
:meth:`Accounts.create_key`, and only its hash is kept. ``tenant=`` on the reading and revoking
methods scopes them to one tenant: what a tenant's own key may see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from switchyard.errors import Conflict, InvalidRequest, NotFound
from switchyard.tenancy.secrets import key_hash, new_key
from switchyard.tenancy.settings import KeySpec, TenantSettings, check_models, narrowed
from switchyard.tenancy.store import KeyRow, KeyStore
from switchyard.types.grants import Grant

RevokeListener = Callable[[str], Awaitable[None]]


class Accounts:
    def __init__(
        self,
        configured: Sequence[TenantSettings],
        store: KeyStore,
        *,
        aliases: Collection[str],
        providers: Collection[str],
    ) -> None:
        self.configured = {t.name: t for t in configured}
        self.store = store
        self.aliases = aliases
        self.providers = providers
        # told the id of every key revoked here (the key cache, the replicas' announcer)
        self.revoke_listeners: list[RevokeListener] = []

    # -- tenants ----------------------------------------------------------------------------

    async def create_tenant(self, tenant: TenantSettings) -> dict[str, Any]:
        if tenant.name in self.configured:
            raise Conflict(f"tenant {tenant.name!r} is defined in the config", param="name")
        self._check_models(tenant.models, "models")
        if tenant.default_model is not None and not tenant.grant().allows(tenant.default_model):
            raise InvalidRequest(
                f"default_model {tenant.default_model!r} is not in models", param="default_model"
            )
        if tenant.default_model is not None and tenant.default_model not in self.aliases:
            raise InvalidRequest(  # as the config's check: an alias, not a provider/model name
                f"default_model: unknown alias {tenant.default_model!r}", param="default_model"
            )
        created = await self.store.add_tenant(tenant)
        return _tenant_view(tenant, "api", created)

    async def tenants(self) -> list[dict[str, Any]]:
        shown = [_tenant_view(t, "config", None) for t in self.configured.values()]
        shown += [_tenant_view(t, "api", created) for t, created in await self.store.tenants()]
        return shown

    async def tenant(self, name: str) -> TenantSettings:
        if name in self.configured:
            return self.configured[name]
        found = await self.store.tenant(name)
        if found is None:
            raise NotFound(f"no tenant named {name!r}", param="tenant")
        return found[0]

    async def tenant_view(self, name: str) -> dict[str, Any]:
        if name in self.configured:
            return _tenant_view(self.configured[name], "config", None)
        found = await self.store.tenant(name)
        if found is None:
            raise NotFound(f"no tenant named {name!r}", param="tenant")
        return _tenant_view(found[0], "api", found[1])

    async def delete_tenant(self, name: str) -> None:
        """Remove a tenant made through the API; refused while it has keys not revoked."""
        if name in self.configured:
            raise Conflict(f"tenant {name!r} is defined in the config; edit the config")
        live = [k for k in await self.store.keys(name) if k.revoked_at is None]
        if live:
            raise Conflict(f"tenant {name!r} still has {len(live)} key(s); revoke them first")
        if not await self.store.remove_tenant(name):
            raise NotFound(f"no tenant named {name!r}", param="tenant")

    # -- keys -------------------------------------------------------------------------------

    async def create_key(self, spec: KeySpec) -> tuple[KeyRow, str]:
        """A new key for ``spec.tenant``: its row and its secret (shown this once)."""
        tenant = await self.tenant(spec.tenant)
        self._check_models(spec.models, "models")
        allowed = tenant.grant()
        for i, model in enumerate(spec.models or ()):
            if not allowed.allows(model):
                raise InvalidRequest(
                    f"models[{i}]: tenant {tenant.name!r} may not use {model!r}",
                    param=f"models[{i}]",
                )
        if spec.expires_at is not None and spec.expires_at <= datetime.now(UTC):
            raise InvalidRequest("expires_at is in the past", param="expires_at")
        key_id, secret = new_key()
        row = await self.store.add_key(spec, key_id, key_hash(secret.encode()))
        return row, secret

    async def keys(self, tenant: str | None = None) -> list[KeyRow]:
        return await self.store.keys(tenant)

    async def revoke_key(self, key_id: str, tenant: str | None = None) -> KeyRow:
        """Revoke a key (a tenant may revoke only its own); every listener hears of it."""
        row = await self.store.key(key_id)
        if row is None or (tenant is not None and row.tenant != tenant):
            raise NotFound(f"no key with id {key_id!r}", param="id")
        revoked = await self.store.revoke(key_id)
        assert revoked is not None
        for listener in self.revoke_listeners:
            await listener(key_id)
        return revoked

    async def resolve(self, key_id: str) -> tuple[KeyRow, Grant] | None:
        """The key with this id and the grant it holds (its tenant's, narrowed), or None when
        there is no such key or its tenant is gone. Revocation and expiry are the caller's to
        check (the row says both)."""
        row = await self.store.key(key_id)
        if row is None:
            return None
        try:
            tenant = await self.tenant(row.tenant)
        except NotFound:
            return None
        grant = narrowed(
            tenant.grant(), row.models, row.expires_at, limits=row.limits, budget=row.budget
        )
        return row, grant

    def _check_models(self, models: list[str] | None, where: str) -> None:
        try:
            check_models(models, self.aliases, self.providers, where)
        except ValueError as exc:  # "models[1]: unknown model ...": param names the item
            message = str(exc)
            raise InvalidRequest(message, param=message.partition(":")[0] or where) from None


def _tenant_view(tenant: TenantSettings, source: str, created: datetime | None) -> dict[str, Any]:
    view = tenant.model_dump(mode="json")
    view["source"] = source
    view["created_at"] = None if created is None else created.isoformat()
    return view


__all__ = ["Accounts", "RevokeListener"]
