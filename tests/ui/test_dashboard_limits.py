"""The dashboard's limits and budgets page over HTTP: per tenant and per key, each limit with
what is used and what remains now; a tenant sees its own tenant and keys, never another's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import httpx
import pytest

from tests.e2e.served import ServedGateway, serve
from tests.ui.dashboard_app import MASTER, config, log_in

AUTH = {"Authorization": f"Bearer {MASTER}"}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def served(sqlite_url: str) -> Iterator[ServedGateway]:
    settings = config(sqlite_url)
    # low rates, so what the requests used has not flowed back (GCRA returns one unit every
    # window / limit seconds) by the time the page is read
    settings["limits"] = {"global": {"rpm": 10}}
    acme, globex = settings["tenants"]
    acme["limits"] = {"rpm": 6, "tpm": 120, "tokens_per_day": 500000}
    globex["limits"] = {"tokens_per_month": 900000}
    with serve(settings) as running:
        yield running


def _key(served: ServedGateway, body: dict[str, object]) -> tuple[str, str]:
    with httpx.Client(base_url=served.url, headers=AUTH) as api:
        made = api.post("/api/v1/admin/keys", json=body)
        assert made.status_code == 201, made.text
        return made.json()["id"], made.json()["key"]


def _row(html: str, reading: str) -> list[str]:
    """The cells' text of the row whose reading is ``reading`` (level:owner:limit)."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if f'data-reading="{reading}"' in row:
            cells = re.findall(r"<td>(.*?)</td>", row, re.S)
            return [unescape(re.sub(r"<meter.*?</meter>|<[^>]+>", "", c)).strip() for c in cells]
    raise AssertionError(f"no row for {reading} in {html[:2000]}")


def test_limits_page_shows_used_and_remaining_per_tenant_and_key(served: ServedGateway) -> None:
    acme_id, acme = _key(
        served,
        {
            "tenant": "acme",
            "name": "acme-app",
            "limits": {"rpm": 4},
            "budget": {"usd": 2, "period": "day"},
        },
    )
    globex_id, globex = _key(served, {"tenant": "globex", "limits": {"rpm": 7}})
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {acme}"}) as api:
        for _ in range(3):
            answer = api.post("/v1/chat/completions", json={"model": "smart", "messages": HELLO})
            assert answer.status_code == 200, answer.text
    served.call(served.gateway.admission.limiter.drain())  # type: ignore[union-attr]

    with httpx.Client(base_url=served.url) as browser:
        log_in(browser, acme)
        page = browser.get("/ui/limits")
        assert page.status_code == 200
        html = page.text
        assert 'hx-get="/ui/limits/table"' in html  # refreshed in place
        # level, who, limit, allowed, per, used, remaining, resets in
        assert _row(html, "tenant:acme:rpm")[2:7] == ["rpm", "6 requests", "per minute",
                                                        "3 requests", "3 requests"]  # fmt: skip
        assert _row(html, f"key:{acme_id}:rpm")[5:7] == ["3 requests", "1 request"]
        tpm = _row(html, "tenant:acme:tpm")
        assert tpm[3] == "120 tokens" and tpm[5] != "0 tokens"
        assert _row(html, "tenant:acme:tokens_per_day")[4] == "day"
        budget = _row(html, "tenant:acme:budget")
        assert budget[3:5] == ["$5.000000", "month"]
        spent = float(budget[5].removeprefix("$"))
        assert spent > 0 and float(budget[6].removeprefix("$")) == pytest.approx(5 - spent)
        assert _row(html, f"key:{acme_id}:budget")[3:5] == ["$2.000000", "day"]
        # never another tenant's limits or keys, nor the global limits
        assert "globex" not in html and globex_id not in html and "global::" not in html
        assert "Limits backend" not in html
        fragment = browser.get("/ui/limits/table")
        assert fragment.status_code == 200 and acme_id in fragment.text
        assert globex_id not in fragment.text

    with httpx.Client(base_url=served.url) as browser:
        log_in(browser, globex)
        html = browser.get("/ui/limits/table").text
        assert _row(html, "tenant:globex:tokens_per_month")[4] == "month"
        assert _row(html, f"key:{globex_id}:rpm")[5] == "0 requests"
        assert "acme" not in html and acme_id not in html

    with httpx.Client(base_url=served.url) as admin:
        log_in(admin, MASTER)
        html = admin.get("/ui/limits").text
        assert "Limits backend" in html
        assert _row(html, "global::rpm")[1] == "all requests"
        assert _row(html, "global::rpm")[5] == "3 requests"
        assert acme_id in html and globex_id in html


def test_the_fragment_needs_a_session(served: ServedGateway) -> None:
    with httpx.Client(base_url=served.url) as browser:
        answer = browser.get("/ui/limits/table")
        assert answer.status_code == 403 and "limit-readings" not in answer.text
