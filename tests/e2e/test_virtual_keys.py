"""Virtual keys through the served gateway, with the official SDKs, on SQLite and PostgreSQL:
a key authenticates (Bearer or x-api-key), is refused when unknown, revoked or expired, may
use only its grant's models (403 ``model_not_allowed``, recorded), sees only those in
``/v1/models``, and may not call the admin routes; every usage row names the key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
import httpx
import openai
import pytest

from switchyard.tenancy.secrets import new_key
from switchyard.tenancy.settings import KeySpec
from tests.databases import read_usage
from tests.e2e.served import ServedGateway, serve

MASTER = "sk-master-7f3c1e9a0b2d4c6e8f1a3b5c7d9e0f12"
HELLO: Any = [{"role": "user", "content": "hello"}]


def config(url: str, master: str | None = MASTER) -> dict[str, Any]:
    return {
        "server": {"master_key": master} if master else {},
        # a long TTL: anything refused sooner than 30 s was not refused by the TTL running out
        "storage": {"url": url, "flush_seconds": 0.05, "key_cache_seconds": 30},
        "providers": {"a": {"type": "fake", "reply": "hello from a"}},
        "models": [
            {"name": "smart", "deployments": [{"provider": "a", "model": "m"}]},
            {"name": "fast", "deployments": [{"provider": "a", "model": "f"}]},
            {"name": "vectors", "deployments": [{"provider": "a", "model": "e"}]},
        ],
        "tenants": [{"name": "acme", "models": ["smart", "vectors"]}, {"name": "globex"}],
    }


@pytest.fixture
def served(storage_url: str) -> Iterator[ServedGateway]:
    with serve(config(storage_url)) as s:
        yield s


@pytest.fixture
def served_sqlite(sqlite_url: str) -> Iterator[ServedGateway]:
    with serve(config(sqlite_url)) as s:
        yield s


def make_key(served: ServedGateway, **spec: Any) -> tuple[str, str]:
    """A new key's ``(id, secret)``, made by the served gateway's own accounts."""
    accounts = served.gateway.accounts
    assert accounts is not None
    row, secret = served.call(accounts.create_key(KeySpec(**{"tenant": "acme", **spec})))
    return row.id, secret


def revoke(served: ServedGateway, key_id: str) -> None:
    accounts = served.gateway.accounts
    assert accounts is not None
    served.call(accounts.revoke_key(key_id))


def usage_rows(url: str, count: int) -> list[dict[str, Any]]:
    """The usage rows, once ``count`` are written (the ledger writes off the request path)."""
    deadline = time.monotonic() + 10
    while True:
        rows, _ = asyncio.run(read_usage(url))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_the_openai_sdk_chats_and_streams_with_a_virtual_key_and_rows_name_the_key(
    served: ServedGateway, storage_url: str
) -> None:
    key_id, secret = make_key(served, user="ada")
    client = served.client(secret)
    reply = client.chat.completions.create(model="smart", messages=HELLO)
    assert reply.choices[0].message.content == "hello from a"
    stream = client.chat.completions.create(model="smart", messages=HELLO, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == (
        "hello from a"
    )
    rows = usage_rows(storage_url, 2)
    assert len(rows) == 2
    assert {(r["tenant"], r["key_id"], r["user"], r["status"]) for r in rows} == {
        ("acme", key_id, "ada", "success")
    }
    assert sorted(r["kind"] for r in rows) == ["chat", "stream"]


def test_unknown_revoked_and_expired_keys_get_401(served: ServedGateway) -> None:
    for unknown in (new_key()[1], "sk-sy-nonsense", "not-a-key-at-all"):
        with pytest.raises(openai.AuthenticationError) as caught:
            served.client(unknown).chat.completions.create(model="smart", messages=HELLO)
        assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
        assert unknown not in caught.value.message

    key_id, secret = make_key(served)
    client = served.client(secret)
    client.chat.completions.create(model="smart", messages=HELLO)  # cached now, for 30 s
    revoke(served, key_id)
    with pytest.raises(openai.AuthenticationError, match="revoked"):
        client.chat.completions.create(model="smart", messages=HELLO)

    _, expiring = make_key(served, expires_at=datetime.now(UTC) + timedelta(seconds=1.5))
    served.client(expiring).chat.completions.create(model="smart", messages=HELLO)
    time.sleep(1.6)
    with pytest.raises(openai.AuthenticationError, match="expired"):
        served.client(expiring).chat.completions.create(model="smart", messages=HELLO)


def test_a_model_outside_the_grant_is_403_model_not_allowed_and_recorded(
    served: ServedGateway, storage_url: str
) -> None:
    key_id, secret = make_key(served, user="bob")
    client = served.client(secret)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="fast", messages=HELLO)
    assert caught.value.status_code == 403 and caught.value.code == "model_not_allowed"
    assert "'fast'" in caught.value.message
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(model="fast", messages=HELLO, stream=True)
    with pytest.raises(openai.PermissionDeniedError):  # a direct provider/model name too
        client.chat.completions.create(model="a/m", messages=HELLO)
    with pytest.raises(openai.PermissionDeniedError):
        client.embeddings.create(model="smart-but-not-listed", input="x")
    assert client.embeddings.create(model="vectors", input="x").data
    rows = usage_rows(storage_url, 5)
    refused = [r for r in rows if r["status"] == "error"]
    assert len(refused) == 4
    for row in refused:
        assert row["error_type"] == "model_not_allowed" and row["http_status"] == 403
        assert (row["tenant"], row["key_id"], row["user"]) == ("acme", key_id, "bob")
        assert row["provider"] is None
    assert sorted(r["kind"] for r in refused) == ["chat", "chat", "embed", "stream"]


def test_models_lists_only_what_the_key_may_use(served_sqlite: ServedGateway) -> None:
    _, tenant_wide = make_key(served_sqlite)
    _, narrowed = make_key(served_sqlite, models=["smart"])
    _, other_tenant = make_key(served_sqlite, tenant="globex")  # no models list: everything

    def ids(key: str) -> list[str]:
        return [m.id for m in served_sqlite.client(key).models.list()]

    assert ids(tenant_wide) == ["smart", "vectors"]
    assert ids(narrowed) == ["smart"]
    everything = ["smart", "fast", "vectors", "a/m", "a/f", "a/e"]
    assert sorted(ids(other_tenant)) == sorted(everything)
    assert sorted(ids(MASTER)) == sorted(everything)


def test_the_anthropic_sdk_lists_models_with_x_api_key(served_sqlite: ServedGateway) -> None:
    _, secret = make_key(served_sqlite, models=["smart"])
    client = anthropic.Anthropic(base_url=served_sqlite.url, api_key=secret, max_retries=0)
    page = client.models.list()
    assert [m.id for m in page.data] == ["smart"]
    model = page.data[0]
    assert model.type == "model" and model.display_name == "smart"
    assert model.created_at.year == 1970
    assert page.has_more is False and page.first_id == page.last_id == "smart"
    bad = anthropic.Anthropic(base_url=served_sqlite.url, api_key=new_key()[1], max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.models.list()


def test_admin_routes_refuse_a_tenant_key_with_403(served_sqlite: ServedGateway) -> None:
    _, secret = make_key(served_sqlite)
    url = served_sqlite.url
    tenant = {"authorization": f"Bearer {secret}"}
    routes = [
        ("GET", "/api/v1/providers"),
        ("POST", "/api/v1/providers/a/test"),
        ("GET", "/api/v1/circuit-breakers"),
        ("POST", "/api/v1/circuit-breakers/reset?key=a/m"),
        ("POST", "/api/v1/circuit-breakers/a/m/reset"),
        ("GET", "/api/v1/admin/keys"),
        ("POST", "/api/v1/admin/tenants"),
    ]
    for method, path in routes:
        reply = httpx.request(method, url + path, headers=tenant)
        assert reply.status_code == 403, (path, reply.text)
        assert reply.json()["error"]["code"] == "admin_required"
    with_x_api_key = httpx.get(f"{url}/api/v1/providers", headers={"x-api-key": secret})
    assert with_x_api_key.status_code == 403
    master = httpx.get(f"{url}/api/v1/providers", headers={"authorization": f"Bearer {MASTER}"})
    assert master.status_code == 200


def test_only_credentials_decide_never_host_or_forwarding_headers(
    served_sqlite: ServedGateway,
) -> None:
    url = served_sqlite.url
    for path in ("/healthz", "/readyz"):
        assert httpx.get(url + path).status_code == 200
    spoofed = {"host": "localhost", "x-forwarded-for": "127.0.0.1", "x-real-ip": "127.0.0.1"}
    reply = httpx.post(
        f"{url}/v1/chat/completions", headers=spoofed, json={"model": "smart", "messages": HELLO}
    )
    assert reply.status_code == 401


def test_without_a_master_key_a_virtual_key_is_still_checked_and_used(sqlite_url: str) -> None:
    with serve(config(sqlite_url, master=None)) as served:
        key_id, secret = make_key(served, user="cy")
        assert served.client("anything").chat.completions.create(model="fast", messages=HELLO)
        with pytest.raises(openai.AuthenticationError):
            served.client(new_key()[1]).chat.completions.create(model="smart", messages=HELLO)
        served.client(secret).chat.completions.create(model="smart", messages=HELLO)
        with pytest.raises(openai.PermissionDeniedError):
            served.client(secret).chat.completions.create(model="fast", messages=HELLO)
        keyed = httpx.get(
            f"{served.url}/api/v1/providers", headers={"authorization": f"Bearer {secret}"}
        )
        assert keyed.status_code == 403
        assert httpx.get(f"{served.url}/api/v1/providers").status_code == 200
        rows = usage_rows(sqlite_url, 3)
    owners = [(r["tenant"], r["key_id"], r["user"], r["status"]) for r in rows]
    assert owners == [
        (None, None, None, "success"),
        ("acme", key_id, "cy", "success"),
        ("acme", key_id, "cy", "error"),
    ]


def test_a_request_without_a_model_gets_the_tenants_default(sqlite_url: str) -> None:
    """``tenants[].default_model``: a chat request that names no model is served by it; one
    without a default stays a 400 naming ``model``."""
    settings = config(sqlite_url)
    settings["tenants"][0]["default_model"] = "smart"
    with serve(settings) as served:
        _, with_default = make_key(served)
        _, without = make_key(served, tenant="globex")
        url = f"{served.base_url}/chat/completions"
        body = {"messages": HELLO}
        answered = httpx.post(url, json=body, headers={"authorization": f"Bearer {with_default}"})
        assert answered.status_code == 200, answered.text
        assert answered.headers["x-switchyard-model"] == "m"  # smart's deployment
        refused = httpx.post(url, json=body, headers={"authorization": f"Bearer {without}"})
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "model"
