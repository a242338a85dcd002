"""The key ring on SQLite and PostgreSQL: keys to Principals, looked up once per TTL (counted in
the SQL the database really ran), refusals cached, one lookup for concurrent misses, revoked keys
forgotten at once, expiry checked on every request, stale keys served while the database is
down (and 503 for a key never seen)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from switchyard.errors import AuthenticationError, StorageUnavailable
from switchyard.storage.migrate import upgrade
from switchyard.tenancy.accounts import Accounts
from switchyard.tenancy.keyring import KeyRing
from switchyard.tenancy.secrets import new_key
from switchyard.tenancy.settings import KeySpec, TenantSettings
from switchyard.tenancy.store import KeyStore
from switchyard.types import Limits


class Clocks:
    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = datetime.now(UTC).timestamp()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall += seconds


class Fixture:
    def __init__(self, accounts: Accounts, ring: KeyRing, clocks: Clocks) -> None:
        self.accounts, self.ring, self.clocks = accounts, ring, clocks
        self.key_selects = 0  # SELECTs on api_keys the database ran

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "api_keys" in statement:
                self.key_selects += 1

        event.listen(accounts.store.engine.sync_engine, "before_cursor_execute", count)

    async def key(self, **spec: Any) -> tuple[str, str]:
        row, secret = await self.accounts.create_key(KeySpec(tenant="acme", **spec))
        return row.id, secret


@pytest.fixture
async def ring(storage_url: str) -> AsyncIterator[Fixture]:
    engine = create_async_engine(storage_url)
    await upgrade(engine)
    accounts = Accounts(
        [TenantSettings(name="acme", models=["smart", "fast"], limits=Limits(rpm=60))],
        KeyStore(engine),
        aliases={"smart", "fast"},
        providers=set(),
    )
    clocks = Clocks()
    keyring = KeyRing(
        accounts, ttl=1.0, max_keys=3, max_refusals=3, clock=lambda: clocks.now,
        wall=lambda: clocks.wall,
    )  # fmt: skip
    accounts.revoke_listeners.append(keyring.forget)
    try:
        yield Fixture(accounts, keyring, clocks)
    finally:
        await engine.dispose()


async def test_a_key_is_its_tenants_principal_with_the_narrowed_grant(ring: Fixture) -> None:
    key_id, secret = await ring.key(user="ada", models=["smart"])
    principal = await ring.ring.authenticate(secret.encode(), "req-1")
    assert principal.request_id == "req-1"
    assert (principal.tenant, principal.key_id, principal.user) == ("acme", key_id, "ada")
    assert principal.admin is False
    assert principal.grant is not None and principal.grant.models == frozenset({"smart"})
    assert principal.grant.limits == Limits(rpm=60)
    assert principal.may_use("smart") and not principal.may_use("fast")


async def test_within_the_ttl_a_key_is_looked_up_once(ring: Fixture) -> None:
    _, secret = await ring.key()
    for i in range(50):
        await ring.ring.authenticate(secret.encode(), f"r{i}")
        ring.clocks.advance(0.01)
    assert ring.key_selects == 1 and ring.ring.lookups == 1
    ring.clocks.advance(1.0)  # the TTL is over: asked again, once
    for i in range(10):
        await ring.ring.authenticate(secret.encode(), f"s{i}")
    assert ring.key_selects == 2


async def test_concurrent_misses_share_one_lookup(ring: Fixture) -> None:
    _, secret = await ring.key()
    principals = await asyncio.gather(
        *(ring.ring.authenticate(secret.encode(), f"r{i}") for i in range(20))
    )
    assert {p.request_id for p in principals} == {f"r{i}" for i in range(20)}
    assert ring.key_selects == 1


async def test_unknown_wrong_and_malformed_keys_are_refused_and_refusals_cached(
    ring: Fixture,
) -> None:
    key_id, secret = await ring.key()
    unknown = new_key()[1]
    wrong_secret = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    for token in (unknown, wrong_secret, "sk-sy-short", "sk-sy-" + "z" * 55):
        for _ in range(5):
            with pytest.raises(AuthenticationError) as caught:
                await ring.ring.authenticate(token.encode(), "r")
            assert token not in caught.value.message
    # the two well-formed ones were looked up once each; the malformed ones never
    assert ring.key_selects == 2
    assert (await ring.ring.authenticate(secret.encode(), "r")).key_id == key_id


async def test_a_flood_of_bad_keys_does_not_push_good_keys_out(ring: Fixture) -> None:
    good = [(await ring.key())[1] for _ in range(3)]
    for secret in good:
        await ring.ring.authenticate(secret.encode(), "r")
    for _ in range(20):
        with pytest.raises(AuthenticationError):
            await ring.ring.authenticate(new_key()[1].encode(), "r")
    before = ring.key_selects
    for secret in good:
        await ring.ring.authenticate(secret.encode(), "r")
    assert ring.key_selects == before  # all three still cached
    assert len(ring.ring) == 3 + 3  # bounded: 3 keys, 3 refusals


async def test_the_cache_is_bounded_least_recently_used_out(ring: Fixture) -> None:
    secrets = [(await ring.key())[1] for _ in range(4)]
    for secret in secrets[:3]:
        await ring.ring.authenticate(secret.encode(), "r")
    await ring.ring.authenticate(secrets[0].encode(), "r")  # used: now the most recent
    await ring.ring.authenticate(secrets[3].encode(), "r")  # pushes out secrets[1]
    before = ring.key_selects
    await ring.ring.authenticate(secrets[0].encode(), "r")
    assert ring.key_selects == before
    await ring.ring.authenticate(secrets[1].encode(), "r")
    assert ring.key_selects == before + 1


async def test_a_revoked_key_is_refused_at_once_within_the_ttl(ring: Fixture) -> None:
    key_id, secret = await ring.key()
    await ring.ring.authenticate(secret.encode(), "r")
    await ring.accounts.revoke_key(key_id)
    with pytest.raises(AuthenticationError, match="revoked"):
        await ring.ring.authenticate(secret.encode(), "r")


async def test_a_lookup_in_flight_when_its_key_is_revoked_is_not_cached(ring: Fixture) -> None:
    key_id, secret = await ring.key()
    started = asyncio.Event()
    release = asyncio.Event()
    resolve = ring.accounts.resolve

    async def slow_resolve(kid: str) -> Any:
        found = await resolve(kid)  # read before the revocation
        started.set()
        await release.wait()
        return found

    ring.accounts.resolve = slow_resolve  # type: ignore[method-assign]
    first = asyncio.ensure_future(ring.ring.authenticate(secret.encode(), "r"))
    await started.wait()
    ring.accounts.resolve = resolve  # type: ignore[method-assign]
    await ring.accounts.revoke_key(key_id)
    release.set()
    await first  # it began before the revocation: answered as it was read
    with pytest.raises(AuthenticationError, match="revoked"):
        await ring.ring.authenticate(secret.encode(), "r")


async def test_expiry_is_checked_on_every_request_not_only_at_lookup(ring: Fixture) -> None:
    expires = datetime.fromtimestamp(ring.clocks.wall, UTC) + timedelta(seconds=0.5)
    _, secret = await ring.key(expires_at=expires)
    await ring.ring.authenticate(secret.encode(), "r")
    ring.clocks.wall += 0.6  # the monotonic clock stands still: the entry is fresh
    with pytest.raises(AuthenticationError, match="expired"):
        await ring.ring.authenticate(secret.encode(), "r")
    assert ring.key_selects == 1


async def test_with_the_database_down_a_cached_key_is_served_stale_and_a_new_one_gets_503(
    ring: Fixture, caplog: pytest.LogCaptureFixture
) -> None:
    _, secret = await ring.key(user="ada")
    await ring.ring.authenticate(secret.encode(), "r")
    _, never_seen = await ring.key()
    # nothing listens on port 1: every connection is refused
    dead = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    real, ring.accounts.store.engine = ring.accounts.store.engine, dead
    try:
        ring.clocks.advance(5.0)  # past the TTL
        with caplog.at_level(logging.WARNING, logger="switchyard.keys"):
            for _ in range(3):
                principal = await ring.ring.authenticate(secret.encode(), "r")
                assert principal.user == "ada"
        warnings = [r for r in caplog.records if r.name == "switchyard.keys"]
        assert len(warnings) == 1  # rate-limited
        assert secret not in caplog.text
        with pytest.raises(StorageUnavailable):
            await ring.ring.authenticate(never_seen.encode(), "r")
    finally:
        ring.accounts.store.engine = real
        await dead.dispose()
    ring.clocks.advance(5.0)
    assert (await ring.ring.authenticate(never_seen.encode(), "r")).tenant == "acme"
