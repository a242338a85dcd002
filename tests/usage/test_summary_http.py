"""``GET /api/v1/usage/summary`` through the served gateway: the master key reads every tenant
(or one), bad parameters are 400 naming the parameter, no storage is 501; and a tenant's
principal (placed as the guard will place an authenticated virtual key's) reads only its own
tenant over HTTP. The rule itself is the Gateway's, tested in ``test_summary.py``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from switchyard import Gateway
from switchyard.doors.http import PRINCIPAL_KEY
from switchyard.doors.native.usage import UsageDoor
from switchyard.types import Principal
from tests.e2e.served import serve
from tests.usage.test_summary import C1, C2, C5, C6, write_rows

MASTER = "sk-master-for-usage-tests"


def config(storage_url: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "providers": {"f": {"type": "fake"}},
        "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
        "server": {"master_key": MASTER},
    }
    if storage_url is not None:
        settings["storage"] = {"url": storage_url}
    return settings


def admin(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"authorization": f"Bearer {MASTER}"}, timeout=10)


def test_the_master_key_reads_every_tenant_and_may_narrow(storage_url: str) -> None:
    asyncio.run(write_rows(storage_url))
    with serve(config(storage_url)) as served, admin(served.url) as client:
        everything = client.get("/api/v1/usage/summary", params={"group_by": "tenant,model"})
        assert everything.status_code == 200, everything.text
        assert everything.headers["x-request-id"]
        body = everything.json()
        assert body["object"] == "usage.summary" and body["group_by"] == ["tenant", "model"]
        assert [(g["tenant"], g["model"]) for g in body["groups"]] == [
            (None, "m"),
            ("acme", None),
            ("acme", "m"),
            ("acme", "n"),
            ("beta", "m"),
        ]
        acme_m = body["groups"][2]
        assert acme_m["cost_usd"] == str(C1 + C2).rstrip("0") == "0.004775"
        assert acme_m["latency_ms"] == {"p50": pytest.approx(15.0), "p95": pytest.approx(19.5)}
        totals = body["totals"]
        assert totals["requests"] == 6 and totals["errors"] == 2 and totals["cache_hits"] == 1
        assert totals["cost_usd"] == "0.0091225" and body["truncated"] is False

        # group_by repeated is the same as comma-separated; since/until/tenant narrow
        beta = client.get(
            "/api/v1/usage/summary",
            params=[("group_by", "tenant"), ("group_by", "day"), ("tenant", "beta")],
        ).json()
        assert [(g["tenant"], g["day"]) for g in beta["groups"]] == [("beta", "2026-12-01")]
        assert beta["tenant"] == "beta" and beta["totals"]["cost_usd"] == "0.004175" == str(C5)
        december = client.get(
            "/api/v1/usage/summary",
            params={"since": "2026-12-01", "until": "2026-12-02T00:00:00Z"},
        ).json()
        assert december["groups"] == []
        assert december["since"] == "2026-12-01T00:00:00Z"
        assert december["totals"]["requests"] == 3
        assert december["totals"]["cost_usd"] == str(C5 + C6).rstrip("0")

        with httpx.Client(base_url=served.url) as stranger:
            assert stranger.get("/api/v1/usage/summary").status_code == 401


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"group_by": "tenant,colour"}, "group_by"),
        ({"since": "last tuesday"}, "since"),
        ({"until": "2026-12-32"}, "until"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(
    sqlite_url: str, query: dict[str, str], param: str
) -> None:
    with serve(config(sqlite_url)) as served, admin(served.url) as client:
        answer = client.get("/api/v1/usage/summary", params=query)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert param in error["message"]


def test_without_storage_the_route_is_501() -> None:
    with serve(config(None)) as served, admin(served.url) as client:
        answer = client.get("/api/v1/usage/summary", params={"group_by": "tenant"})
    assert answer.status_code == 501
    assert answer.json()["error"]["code"] == "not_configured"


async def test_the_route_answers_with_the_callers_scope(storage_url: str) -> None:
    """The door passes the authenticated principal on: a tenant's key (put in the scope here as
    the guard will once virtual keys authenticate) reads its tenant only, over HTTP."""
    await write_rows(storage_url)
    gateway = Gateway.from_config(config(storage_url))
    door = UsageDoor(gateway)
    acme = Principal("q", tenant="acme", key_id="k1")

    async def as_acme(scope: Any, receive: Any, send: Any) -> None:
        scope[PRINCIPAL_KEY] = acme
        await Starlette(routes=[Route("/summary", door.summary)])(scope, receive, send)

    transport = httpx.ASGITransport(app=as_acme)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        mine = (await client.get("/summary", params={"group_by": "tenant"})).json()
        assert [g["tenant"] for g in mine["groups"]] == ["acme"]
        assert mine["tenant"] == "acme" and mine["totals"]["requests"] == 4
        other = await client.get("/summary", params={"tenant": "beta"})
        assert other.status_code == 404 and other.json()["error"]["param"] == "tenant"
        assert "0.004175" not in other.text  # nothing of beta's
    assert gateway.ledger is not None
    await gateway.ledger.engine.dispose()
