"""The admin API through the served app, on SQLite and PostgreSQL: tenants and keys created,
listed, revoked and deleted with the master key; the secret shown once and stored nowhere."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from switchyard import Gateway
from switchyard.config.schema import ServerSettings
from switchyard.doors.http import PRINCIPAL_KEY
from switchyard.doors.native.admin import AdminDoor
from switchyard.storage.tables import api_keys, tenants
from switchyard.tenancy.secrets import key_hash, key_id_of
from switchyard.types import Principal
from tests.e2e.served import serve

MASTER = "sk-test-master"
AUTH = {"Authorization": f"Bearer {MASTER}"}
KEYS = "/api/v1/admin/keys"
TENANTS = "/api/v1/admin/tenants"
ROUTES = [
    ("POST", TENANTS),
    ("GET", TENANTS),
    ("GET", f"{TENANTS}/acme"),
    ("DELETE", f"{TENANTS}/acme"),
    ("POST", KEYS),
    ("GET", KEYS),
    ("DELETE", f"{KEYS}/0123456789ab"),
]


def config(storage_url: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "server": {"master_key": MASTER},
        "providers": {"p": {"type": "fake"}},
        "models": [
            {"name": "smart", "deployments": [{"provider": "p", "model": "m1"}]},
            {"name": "fast", "deployments": [{"provider": "p", "model": "m2"}]},
        ],
    }
    if storage_url is not None:
        settings["storage"] = {"url": storage_url}
        settings["tenants"] = [{"name": "acme", "models": ["smart"], "limits": {"rpm": 60}}]
    return settings


async def _dump(url: str) -> str:
    """Every row of the key and tenant tables, as text."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            keys = (await connection.execute(select(api_keys))).all()
            rows = (await connection.execute(select(tenants))).all()
    finally:
        await engine.dispose()
    return repr(keys) + repr(rows)


def test_tenants_and_keys_are_created_listed_revoked_and_deleted(
    storage_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        serve(config(storage_url)) as served,
        httpx.Client(base_url=served.url, headers=AUTH) as client,
    ):
        created = client.post(
            TENANTS, json={"name": "globex", "models": ["smart", "fast"], "default_model": "fast"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["source"] == "api" and created.json()["default_model"] == "fast"
        duplicate = client.post(TENANTS, json={"name": "globex"})
        assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
        assert client.post(TENANTS, json={"name": "acme"}).status_code == 409  # the config's

        listed = client.get(TENANTS).json()["data"]
        assert [(t["name"], t["source"]) for t in listed] == [("acme", "config"), ("globex", "api")]
        assert listed[0]["limits"]["rpm"] == 60
        assert client.get(f"{TENANTS}/globex").json()["models"] == ["smart", "fast"]
        missing = client.get(f"{TENANTS}/initech")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        made = client.post(
            KEYS,
            json={
                "tenant": "globex",
                "user": "ada",
                "name": "laptop",
                "models": ["fast"],
                "budget": {"usd": "12.5", "period": "day"},
                "expires_at": expires,
            },
        )
        assert made.status_code == 201, made.text
        key = made.json()
        secret = key["key"]
        assert secret.startswith("sk-sy-") and key_id_of(secret.encode()) == key["id"]
        assert key["tenant"] == "globex" and key["user"] == "ada" and key["models"] == ["fast"]
        assert key["budget"] == {"usd": "12.5", "period": "day"} and key["revoked_at"] is None
        assert datetime.fromisoformat(key["expires_at"]) == datetime.fromisoformat(expires)
        assert "hash" not in key
        other = client.post(KEYS, json={"tenant": "acme"})
        assert other.status_code == 201

        everything = client.get(KEYS)
        assert [k["id"] for k in everything.json()["data"]] == [key["id"], other.json()["id"]]
        assert secret not in everything.text and other.json()["key"] not in everything.text
        assert all("key" not in k and "hash" not in k for k in everything.json()["data"])
        mine = client.get(KEYS, params={"tenant": "globex"}).json()["data"]
        assert [k["id"] for k in mine] == [key["id"]]
        assert client.get(KEYS, params={"tenant": "initech"}).json()["data"] == []

        stored = asyncio.run(_dump(storage_url))
        assert key["id"] in stored and key_hash(secret.encode()) in stored
        assert secret not in stored and secret[len("sk-sy-") + 12 :] not in stored

        refused = client.delete(f"{TENANTS}/globex")
        assert refused.status_code == 409 and "revoke" in refused.json()["error"]["message"]

        revoked = client.delete(f"{KEYS}/{key['id']}")
        assert revoked.status_code == 200
        assert revoked.json()["id"] == key["id"] and revoked.json()["revoked_at"] is not None
        assert secret not in revoked.text
        listed_keys = client.get(KEYS, params={"tenant": "globex"}).json()["data"]
        assert listed_keys[0]["revoked_at"] == revoked.json()["revoked_at"]
        unknown = client.delete(f"{KEYS}/ffffffffffff")
        assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "id"

        deleted = client.delete(f"{TENANTS}/globex")
        assert deleted.status_code == 200 and deleted.json() == {"name": "globex", "deleted": True}
        assert client.get(f"{TENANTS}/globex").status_code == 404
        assert client.delete(f"{TENANTS}/globex").status_code == 404
        assert client.delete(f"{TENANTS}/acme").status_code == 409  # edit the config instead
    assert secret not in caplog.text and other.json()["key"] not in caplog.text


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    (KEYS, {"tenant": "acme", "budget": {"usd": "lots"}}, "budget.usd"),
    (KEYS, {"tenant": "acme", "budget": {"usd": -1}}, "budget.usd"),
    (KEYS, {"tenant": "acme", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
    (KEYS, {"tenant": "acme", "expires_at": "next week"}, "expires_at"),
    (KEYS, {"tenant": "acme", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    (KEYS, {"tenant": "acme", "models": ["fast"]}, "models[0]"),  # not acme's
    (KEYS, {"tenant": "acme", "models": ["smart", "nope"]}, "models[1]"),
    (KEYS, {"tenant": "acme", "models": "smart"}, "models"),
    (KEYS, {"tenant": "acme", "limits": {"rpm": 0}}, "limits.rpm"),
    (KEYS, {"tenant": "acme", "limits": {"rps": 5}}, "limits.rps"),
    (KEYS, {"tenant": "acme", "secret": "mine"}, "secret"),
    (KEYS, {"user": "ada"}, "tenant"),
    (TENANTS, {"name": "has space"}, "name"),
    (TENANTS, {"name": "globex", "models": ["nope"]}, "models[0]"),
    (TENANTS, {"name": "globex", "models": ["smart"], "default_model": "fast"}, "default_model"),
    (TENANTS, {"name": "globex", "default_model": "nope"}, "default_model"),
    (TENANTS, {"name": "globex", "colour": "red"}, "colour"),
    (TENANTS, {}, "name"),
]


def test_a_bad_body_is_400_naming_the_field(sqlite_url: str) -> None:
    with (
        serve(config(sqlite_url)) as served,
        httpx.Client(base_url=served.url, headers=AUTH) as client,
    ):
        for path, body, param in BAD_BODIES:
            answer = client.post(path, json=body)
            assert answer.status_code == 400, (body, answer.text)
            error = answer.json()["error"]
            assert error["type"] == "invalid_request_error", error
            assert error["code"] == "invalid_request", error
            assert error["param"] == param, (body, error)
            assert answer.headers["x-request-id"]
        # nothing was created
        assert client.get(KEYS).json()["data"] == []
        assert [t["name"] for t in client.get(TENANTS).json()["data"]] == ["acme"]


def test_unknown_tenant_and_bodies_that_are_not_json(sqlite_url: str) -> None:
    with (
        serve(config(sqlite_url)) as served,
        httpx.Client(base_url=served.url, headers=AUTH) as client,
    ):
        unknown = client.post(KEYS, json={"tenant": "initech"})
        assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "tenant"
        for content in (b"", b"{not json", b"[1, 2]"):
            answer = client.post(KEYS, content=content)
            assert answer.status_code == 400 and "JSON" in answer.json()["error"]["message"]
        huge = client.post(TENANTS, json={"name": "x", "metadata": {"pad": "x" * 9_000_000}})
        assert huge.status_code == 413


def test_without_storage_every_admin_route_is_501_saying_what_to_add() -> None:
    with serve(config(None)) as served:
        for method, path in ROUTES:
            body = {"tenant": "acme"} if method == "POST" else None
            answer = httpx.request(method, f"{served.url}{path}", json=body, headers=AUTH)
            assert answer.status_code == 501, (method, path)
            error = answer.json()["error"]
            assert error["code"] == "not_configured" and "storage" in error["message"]


def test_every_admin_route_needs_the_master_key(sqlite_url: str) -> None:
    with serve(config(sqlite_url)) as served:
        for method, path in ROUTES:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"x-api-key": "wrong"}):
                answer = httpx.request(
                    method, f"{served.url}{path}", json={"tenant": "acme"}, headers=headers
                )
                assert answer.status_code == 401, (method, path, headers)
                assert answer.json()["error"]["type"] == "authentication_error"
        assert httpx.get(f"{served.url}{KEYS}", headers={"x-api-key": MASTER}).status_code == 200
        assert httpx.get(f"{served.url}{KEYS}", headers=AUTH).json()["data"] == []


class _AsTenant:
    """Stands in for the guard, letting every request in as a tenant's (non-admin) key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[PRINCIPAL_KEY] = Principal("r", tenant="acme", key_id="0123456789ab")
        await self.app(scope, receive, send)


async def test_the_door_itself_refuses_a_principal_that_is_not_the_admin(sqlite_url: str) -> None:
    async with Gateway.from_config(config(sqlite_url)) as gateway:
        door = AdminDoor(gateway, ServerSettings())
        routes = [
            Route(TENANTS, door.create_tenant, methods=["POST"]),
            Route(TENANTS, door.tenants, methods=["GET"]),
            Route(TENANTS + "/{name}", door.tenant, methods=["GET"]),
            Route(TENANTS + "/{name}", door.delete_tenant, methods=["DELETE"]),
            Route(KEYS, door.create_key, methods=["POST"]),
            Route(KEYS, door.keys, methods=["GET"]),
            Route(KEYS + "/{id}", door.revoke_key, methods=["DELETE"]),
        ]
        app = _AsTenant(Starlette(routes=routes))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for method, path in ROUTES:
                answer = await client.request(method, path, json={"tenant": "acme"})
                assert answer.status_code == 403, (method, path)
                assert answer.json()["error"]["code"] == "admin_required"
        assert gateway.accounts is not None
        assert await gateway.accounts.keys() == []
