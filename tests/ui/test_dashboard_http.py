"""The dashboard over HTTP: login and its cookie, CSRF on every POST, tenant isolation,
logout, the playground's stream and the vendored files."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchyard import Gateway
from switchyard.server.app import create_app
from tests.e2e.served import ServedGateway, serve
from tests.ui.dashboard_app import LOGIN, MASTER, config, csrf_of, log_in

AUTH = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture
def served(sqlite_url: str) -> Iterator[ServedGateway]:
    with serve(config(sqlite_url)) as running:
        yield running


def _key(served: ServedGateway, tenant: str) -> tuple[str, str]:
    with httpx.Client(base_url=served.url, headers=AUTH) as api:
        made = api.post("/api/v1/admin/keys", json={"tenant": tenant, "name": f"{tenant}-app"})
        assert made.status_code == 201, made.text
        return made.json()["id"], made.json()["key"]


def _wait_for_rows(served: ServedGateway, count: int) -> None:
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=served.url, headers=AUTH) as api:
        while time.monotonic() < deadline:
            if api.get("/api/v1/usage/summary").json()["totals"]["requests"] >= count:
                return
            time.sleep(0.05)
    raise AssertionError("the usage rows did not reach the database")


def test_login_sets_an_opaque_http_only_strict_cookie_and_the_pages_need_it(
    served: ServedGateway,
) -> None:
    with httpx.Client(base_url=served.url) as browser:
        assert browser.get("/ui/usage").headers["location"] == LOGIN  # not logged in
        form = browser.get(LOGIN)
        assert form.status_code == 200
        assert form.headers["content-security-policy"].startswith("default-src 'self'")
        refused = browser.post(LOGIN, data={"csrf": csrf_of(form.text), "key": "sk-wrong"})
        assert refused.status_code == 401 and "invalid API key" in refused.text
        form = browser.get(LOGIN)
        answer = browser.post(LOGIN, data={"csrf": csrf_of(form.text), "key": MASTER})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/providers"
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if "switchyard_session=" in c
        )
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags and "samesite=strict" in flags and "path=/ui" in flags
        assert "secure" not in flags  # plain HTTP here; see the TLS test below
        assert MASTER not in cookie
        page = browser.get("/ui/providers")
        assert page.status_code == 200 and 'id="providers"' in page.text
        # the API still wants its header: the cookie is the dashboard's only
        assert browser.get("/api/v1/usage/summary").status_code == 401


def test_login_form_without_its_csrf_cookie_is_refused(served: ServedGateway) -> None:
    with httpx.Client(base_url=served.url) as browser:
        answer = browser.post(LOGIN, data={"csrf": "forged", "key": MASTER})
        assert answer.status_code == 401 and "expired" in answer.text
        assert "switchyard_session" not in answer.headers.get("set-cookie", "")


async def test_the_cookie_is_secure_over_tls() -> None:
    gateway = Gateway.from_config({"server": {"master_key": MASTER}, "providers": {}})
    transport = httpx.ASGITransport(app=create_app(gateway))
    async with httpx.AsyncClient(transport=transport, base_url="https://gateway.test") as browser:
        form = await browser.get(LOGIN)
        answer = await browser.post(LOGIN, data={"csrf": csrf_of(form.text), "key": MASTER})
        assert answer.status_code == 303
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if "switchyard_session=" in c
        )
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_every_post_needs_the_sessions_csrf_token(served: ServedGateway) -> None:
    with httpx.Client(base_url=served.url) as browser:
        page = log_in(browser, MASTER)
        token = csrf_of(page.text)
        for forged in ({}, {"csrf": "x" * len(token)}):
            answer = browser.post("/ui/keys", data={"tenant": "acme", **forged})
            assert answer.status_code == 403 and "CSRF" in answer.text
        assert browser.post("/ui/tenants", data={"name": "evil"}).status_code == 403
        assert browser.post("/ui/logout", data={}).status_code == 403
        stream = browser.post("/ui/playground/stream", json={"model": "smart", "prompt": "hi"})
        assert stream.status_code == 403
        with httpx.Client(base_url=served.url, headers=AUTH) as api:
            assert api.get("/api/v1/admin/keys").json()["data"] == []  # nothing was created
        # with the token: the key is made, and its secret shown once
        made = browser.post("/ui/keys", data={"csrf": token, "tenant": "acme", "name": "web"})
        assert made.status_code == 303 and made.headers["location"] == "/ui/keys"
        shown = browser.get("/ui/keys").text
        secret = re.search(r"(sk-sy-[A-Za-z0-9_\-]+)", shown)
        assert secret is not None
        assert secret.group(1) not in browser.get("/ui/keys").text  # once only
        # a bad field is named
        browser.post("/ui/keys", data={"csrf": token, "tenant": "", "name": "x"})
        assert "tenant is required" in browser.get("/ui/keys").text


def test_keys_and_tenants_are_created_revoked_and_deleted(served: ServedGateway) -> None:
    with httpx.Client(base_url=served.url) as browser:
        token = csrf_of(log_in(browser, MASTER).text)
        browser.post("/ui/tenants", data={"csrf": token, "name": "initech", "models": "smart"})
        assert "tenant initech created" in browser.get("/ui/tenants").text
        browser.post("/ui/keys", data={"csrf": token, "tenant": "initech"})
        with httpx.Client(base_url=served.url, headers=AUTH) as api:
            (key,) = api.get("/api/v1/admin/keys").json()["data"]
            browser.post(f"/ui/keys/{key['id']}/revoke", data={"csrf": token})
            assert api.get("/api/v1/admin/keys").json()["data"][0]["revoked_at"] is not None
            browser.post("/ui/tenants/initech/delete", data={"csrf": token})
            names = [t["name"] for t in api.get("/api/v1/admin/tenants").json()["data"]]
            assert "initech" not in names


def test_a_tenants_session_sees_only_its_tenant(served: ServedGateway) -> None:
    acme_id, acme = _key(served, "acme")
    globex_id, globex = _key(served, "globex")
    for key, model in ((acme, "smart"), (globex, "fast"), (globex, "fast")):
        served.client(key).chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(Exception):  # noqa: B017 - a failed request, for the errors page
        served.client(globex).chat.completions.create(
            model="shaky", messages=[{"role": "user", "content": "hi"}]
        )
    _wait_for_rows(served, 4)
    with httpx.Client(base_url=served.url) as browser:
        usage = log_in(browser, acme)
        assert usage.url.path == "/ui/usage"
        by_tenant = _section(usage.text, "by-tenant")
        assert "acme" in by_tenant and "globex" not in by_tenant
        assert globex_id not in usage.text and "fast" not in _section(usage.text, "by-alias")
        keys = browser.get("/ui/keys").text
        assert acme_id in keys and globex_id not in keys
        assert "/revoke" not in keys and "create-key" not in keys  # read-only for a tenant
        assert "globex" not in _section(browser.get("/ui/errors").text, "errors")
        assert browser.get("/ui/providers").status_code == 403
        assert browser.get("/ui/tenants").status_code == 403
        assert "Providers" not in _nav(browser.get("/ui/usage").text)
        token = csrf_of(browser.get("/ui/keys").text)
        browser.post("/ui/keys", data={"csrf": token, "tenant": "globex"})
        assert "needs the master key" in browser.get("/ui/keys").text
        browser.post(f"/ui/keys/{globex_id}/revoke", data={"csrf": token})
        limits = browser.get("/ui/limits").text
        assert "acme" in limits and "globex" not in limits
        # the playground lists and streams only what the key may use
        playground = browser.get("/ui/playground").text
        assert 'value="smart"' in playground and 'value="fast"' not in playground
        refused = browser.post(
            "/ui/playground/stream",
            json={"model": "fast", "prompt": "hi"},
            headers={"x-csrf-token": token},
        )
        assert refused.status_code == 403 and "fast" in refused.text
    with httpx.Client(base_url=served.url, headers=AUTH) as api:
        revoked = [k for k in api.get("/api/v1/admin/keys").json()["data"] if k["revoked_at"]]
        assert revoked == []
    with httpx.Client(base_url=served.url) as admin:
        log_in(admin, MASTER)
        errors = _section(admin.get("/ui/errors").text, "errors")
        assert "globex" in errors and "shaky" in errors and "provider_unavailable" in errors


def test_logout_ends_the_session_on_the_server(served: ServedGateway) -> None:
    with httpx.Client(base_url=served.url) as browser:
        token = csrf_of(log_in(browser, MASTER).text)
        stolen = browser.cookies["switchyard_session"]
        answer = browser.post("/ui/logout", data={"csrf": token})
        assert answer.status_code == 303 and answer.headers["location"] == LOGIN
        assert browser.get("/ui/providers").headers["location"] == LOGIN
    with httpx.Client(base_url=served.url, cookies={"switchyard_session": stolen}) as thief:
        assert thief.get("/ui/providers").headers["location"] == LOGIN


def test_the_playground_streams_chunks_as_server_sent_events(served: ServedGateway) -> None:
    with httpx.Client(base_url=served.url) as browser:
        token = csrf_of(log_in(browser, MASTER).text)
        events: list[tuple[str, Any]] = []
        with browser.stream(
            "POST",
            "/ui/playground/stream",
            json={"model": "smart", "prompt": "hello"},
            headers={"x-csrf-token": token},
        ) as reply:
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in reply.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, line[6:]))
        chunks = [data for name, data in events if name == "chunk"]
        assert len(chunks) >= 2
        assert events[-1][0] == "done" and "p/m1" in events[-1][1]
        bad = browser.post(
            "/ui/playground/stream", json={"model": "smart"}, headers={"x-csrf-token": token}
        )
        assert bad.status_code == 400 and "prompt" in bad.text


def test_vendored_files_are_served_with_their_licences_and_pages_load_nothing_else(
    served: ServedGateway,
) -> None:
    with httpx.Client(base_url=served.url) as browser:
        page = log_in(browser, MASTER).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert sources and all(s.startswith("/ui/") for s in sources), sources
        for path in ("vendor/htmx-2.0.11.min.js", "vendor/chart-4.6.1.umd.min.js"):
            asset = browser.get(f"/ui/static/{path}")
            assert asset.status_code == 200 and len(asset.content) > 10_000
            assert asset.headers["content-type"].startswith("text/javascript")
        assert "MIT" in browser.get("/ui/static/vendor/chartjs-LICENSE.md").text
        assert "Zero-Clause BSD" in browser.get("/ui/static/vendor/htmx-LICENSE.txt").text
        assert browser.get("/ui/static/../door.py").status_code == 404
        assert browser.get("/ui/static/nothing.js").status_code == 404


def _section(html: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}">.*?</table>', html, re.S)
    assert found is not None, f"no table {table_id}"
    return found.group(0)


def _nav(html: str) -> str:
    found = re.search(r"<nav>.*?</nav>", html, re.S)
    assert found is not None
    return found.group(0)


def test_a_revoked_keys_session_ends(
    served: ServedGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchyard.doors.ui.door import DashboardDoor

    monkeypatch.setattr(DashboardDoor, "recheck_seconds", 0.0)
    key_id, key = _key(served, "acme")
    with httpx.Client(base_url=served.url) as browser:
        assert log_in(browser, key).status_code == 200
        with httpx.Client(base_url=served.url, headers=AUTH) as api:
            assert api.delete(f"/api/v1/admin/keys/{key_id}").status_code == 200
        assert browser.get("/ui/usage").headers["location"] == LOGIN
        form = browser.get(LOGIN)
        refused = browser.post(LOGIN, data={"csrf": csrf_of(form.text), "key": key})
        assert refused.status_code == 401 and "switchyard_session" not in str(refused.cookies)
