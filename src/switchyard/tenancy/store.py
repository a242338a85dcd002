"""Tenants (those made through the admin API) and virtual keys in the database.

Plain reads and writes; what may be created, and who may see it, is
:class:`~switchyard.tenancy.accounts.Accounts`'s business. A database that does not answer is
:class:`~switchyard.errors.StorageUnavailable` (503), never a stray SQLAlchemy error.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchyard.errors import Conflict
from switchyard.storage.engine import aware, transaction
from switchyard.storage.tables import api_keys, tenants
from switchyard.tenancy.settings import KeySpec, TenantSettings
from switchyard.types.grants import Budget, Limits


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key as stored (its hash, never its secret)."""

    id: str
    hash: str
    tenant: str
    user: str | None = None
    name: str | None = None
    models: list[str] | None = None
    limits: Limits | None = None
    budget: Budget | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        """The key as the admin API and the CLI show it: everything but the hash."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "user": self.user,
            "name": self.name,
            "models": self.models,
            "limits": None if self.limits is None else self.limits.model_dump(mode="json"),
            "budget": None if self.budget is None else self.budget.model_dump(mode="json"),
            "metadata": self.metadata,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _dump(model: Limits | Budget | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json", exclude_none=True)


def _key_row(row: Any) -> KeyRow:
    return KeyRow(
        id=row.id,
        hash=row.hash,
        tenant=row.tenant,
        user=row.user,
        name=row.name,
        models=row.models,
        limits=None if row.limits is None else Limits.model_validate(row.limits),
        budget=None if row.budget is None else Budget.model_validate(row.budget),
        metadata=row.metadata or {},
        created_at=aware(row.created_at) or datetime.now(UTC),
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
    )


def _tenant(row: Any) -> tuple[TenantSettings, datetime]:
    settings = TenantSettings(
        name=row.name,
        models=row.models,
        default_model=row.default_model,
        limits=row.limits,
        budget=row.budget,
        metadata=row.metadata or {},
        guardrails=row.guardrails or [],
    )
    return settings, aware(row.created_at) or datetime.now(UTC)


class KeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def _begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return transaction(self.engine, "the key database")

    # -- tenants ----------------------------------------------------------------------------

    async def add_tenant(self, tenant: TenantSettings) -> datetime:
        created = datetime.now(UTC)
        values = {
            "name": tenant.name,
            "models": tenant.models,
            "default_model": tenant.default_model,
            "limits": _dump(tenant.limits),
            "budget": _dump(tenant.budget),
            "metadata": tenant.metadata,
            "created_at": created,
            "guardrails": [g.model_dump(mode="json", exclude_none=True) for g in tenant.guardrails]
            or None,
        }
        try:
            async with self._begin() as connection:
                await connection.execute(insert(tenants).values(**values))
        except IntegrityError:
            raise Conflict(f"tenant {tenant.name!r} exists already", param="name") from None
        return created

    async def tenants(self) -> list[tuple[TenantSettings, datetime]]:
        async with self._begin() as connection:
            result = await connection.execute(select(tenants).order_by(tenants.c.name))
            return [_tenant(row) for row in result]

    async def tenant(self, name: str) -> tuple[TenantSettings, datetime] | None:
        async with self._begin() as connection:
            row = (await connection.execute(select(tenants).where(tenants.c.name == name))).first()
        return None if row is None else _tenant(row)

    async def remove_tenant(self, name: str) -> bool:
        """Delete the tenant and its (revoked) keys, so a later tenant of the same name starts
        with none; usage rows keep their key ids."""
        async with self._begin() as connection:
            result = await connection.execute(delete(tenants).where(tenants.c.name == name))
            if result.rowcount:
                await connection.execute(delete(api_keys).where(api_keys.c.tenant == name))
        return bool(result.rowcount)

    # -- keys -------------------------------------------------------------------------------

    async def add_key(self, spec: KeySpec, key_id: str, hashed: str) -> KeyRow:
        row = KeyRow(
            id=key_id,
            hash=hashed,
            tenant=spec.tenant,
            user=spec.user,
            name=spec.name,
            models=spec.models,
            limits=spec.limits,
            budget=spec.budget,
            metadata=spec.metadata,
            expires_at=spec.expires_at,
        )
        values = {
            "id": row.id,
            "hash": row.hash,
            "tenant": row.tenant,
            "user": row.user,
            "name": row.name,
            "models": row.models,
            "limits": _dump(row.limits),
            "budget": _dump(row.budget),
            "metadata": row.metadata,
            "created_at": row.created_at,
            "expires_at": row.expires_at,
        }
        async with self._begin() as connection:
            await connection.execute(insert(api_keys).values(**values))
        return row

    async def keys(self, tenant: str | None = None) -> list[KeyRow]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if tenant is not None:
            query = query.where(api_keys.c.tenant == tenant)
        async with self._begin() as connection:
            return [_key_row(row) for row in await connection.execute(query)]

    async def key(self, key_id: str) -> KeyRow | None:
        async with self._begin() as connection:
            row = (
                await connection.execute(select(api_keys).where(api_keys.c.id == key_id))
            ).first()
        return None if row is None else _key_row(row)

    async def revoke(self, key_id: str) -> KeyRow | None:
        """Mark the key revoked (once: a second revoke keeps the first time)."""
        async with self._begin() as connection:
            await connection.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            row = (
                await connection.execute(select(api_keys).where(api_keys.c.id == key_id))
            ).first()
        return None if row is None else _key_row(row)


__all__ = ["KeyRow", "KeyStore"]
