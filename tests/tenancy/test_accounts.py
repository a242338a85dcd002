"""Tenants and keys in the database, on SQLite and PostgreSQL: created, listed, revoked, resolved
to a grant; the secret is never stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from switchyard.errors import Conflict, InvalidRequest, NotFound
from switchyard.storage.migrate import upgrade
from switchyard.storage.tables import api_keys
from switchyard.tenancy.accounts import Accounts
from switchyard.tenancy.secrets import KEY_LENGTH, key_hash, key_id_of
from switchyard.tenancy.settings import KeySpec, TenantSettings
from switchyard.tenancy.store import KeyStore
from switchyard.types import Budget, Limits


async def accounts_on(url: str) -> Accounts:
    engine = create_async_engine(url)
    await upgrade(engine)
    configured = [TenantSettings(name="acme", models=["smart", "fast"], limits=Limits(rpm=60))]
    return Accounts(
        configured, KeyStore(engine), aliases={"smart", "fast", "cheap"}, providers={"openai"}
    )


async def test_a_key_is_shown_once_stored_hashed_and_resolves_to_its_grant(
    storage_url: str,
) -> None:
    accounts = await accounts_on(storage_url)
    try:
        row, secret = await accounts.create_key(
            KeySpec(tenant="acme", user="ada", models=["smart"], budget=Budget(usd=5))
        )
        assert len(secret) == KEY_LENGTH and secret.startswith("sk-sy-")
        assert key_id_of(secret.encode()) == row.id
        assert row.hash == key_hash(secret.encode())
        assert "hash" not in row.public() and secret not in str(row.public())
        async with accounts.store.engine.connect() as connection:
            dump = str((await connection.execute(select(api_keys))).all())
        assert secret not in dump and secret[len("sk-sy-") + 12 :] not in dump
        resolved = await accounts.resolve(row.id)
        assert resolved is not None
        stored, grant = resolved
        assert stored.user == "ada" and stored.budget == Budget(usd=5)
        assert grant.models == frozenset({"smart"}) and grant.limits == Limits(rpm=60)
        assert [k.id for k in await accounts.keys("acme")] == [row.id]
        assert await accounts.keys("other") == []
    finally:
        await accounts.store.engine.dispose()


async def test_revoking_tells_every_listener_and_scopes_to_the_tenant(storage_url: str) -> None:
    accounts = await accounts_on(storage_url)
    heard: list[str] = []

    async def listener(key_id: str) -> None:
        heard.append(key_id)

    accounts.revoke_listeners.append(listener)
    try:
        await accounts.create_tenant(TenantSettings(name="globex"))
        row, _ = await accounts.create_key(KeySpec(tenant="acme"))
        with pytest.raises(NotFound):
            await accounts.revoke_key(row.id, tenant="globex")
        revoked = await accounts.revoke_key(row.id, tenant="acme")
        assert revoked.revoked_at is not None and heard == [row.id]
        again = await accounts.revoke_key(row.id)
        assert again.revoked_at == revoked.revoked_at
    finally:
        await accounts.store.engine.dispose()


async def test_what_may_not_be_created_is_refused_naming_the_field(storage_url: str) -> None:
    accounts = await accounts_on(storage_url)
    try:
        with pytest.raises(NotFound):
            await accounts.create_key(KeySpec(tenant="nobody"))
        with pytest.raises(InvalidRequest) as wider:
            await accounts.create_key(KeySpec(tenant="acme", models=["cheap"]))
        assert wider.value.param == "models[0]"
        with pytest.raises(InvalidRequest) as unknown:
            await accounts.create_key(KeySpec(tenant="acme", models=["nope"]))
        assert "unknown model" in unknown.value.message
        past = datetime.now(UTC) - timedelta(seconds=1)
        with pytest.raises(InvalidRequest) as expired:
            await accounts.create_key(KeySpec(tenant="acme", expires_at=past))
        assert expired.value.param == "expires_at"
        with pytest.raises(Conflict):
            await accounts.create_tenant(TenantSettings(name="acme"))
        await accounts.create_tenant(TenantSettings(name="initech", models=["cheap"]))
        with pytest.raises(Conflict):
            await accounts.create_tenant(TenantSettings(name="initech"))
        shown = {t["name"]: t for t in await accounts.tenants()}
        assert shown["acme"]["source"] == "config" and shown["initech"]["source"] == "api"
        row, _ = await accounts.create_key(KeySpec(tenant="initech"))
        with pytest.raises(Conflict):
            await accounts.delete_tenant("initech")
        await accounts.revoke_key(row.id)
        await accounts.delete_tenant("initech")
        assert await accounts.resolve(row.id) is None  # its tenant is gone
        await accounts.create_tenant(TenantSettings(name="initech"))
        assert await accounts.keys("initech") == []  # a new tenant inherits no old keys
    finally:
        await accounts.store.engine.dispose()


async def test_the_migration_adds_cache_hit_to_existing_usage_rows(sqlite_url: str) -> None:
    engine = create_async_engine(sqlite_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            columns = (await connection.execute(text("PRAGMA table_info(usage)"))).all()
        assert "cache_hit" in {c[1] for c in columns}
    finally:
        await engine.dispose()
