"""The dashboard end to end in a real headless Chromium (Debian's package, driven over the
DevTools Protocol): log in, watch a breaker open after failures, test a provider, create and
revoke a key, read the usage charts, watch a tenant's budget being used, stream in the
playground, log out. Screenshots of every step are saved under
``$TMPDIR/switchyard-dashboard-screenshots`` (the path is printed)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from switchyard.tenancy.settings import KeySpec
from tests.e2e.served import ServedGateway, serve
from tests.ui.cdp import Browser, chromium_or_skip
from tests.ui.dashboard_app import MASTER, config

SHOTS = Path(tempfile.gettempdir()) / "switchyard-dashboard-screenshots"


@pytest.fixture
def browser() -> Iterator[Browser]:
    running = Browser(chromium_or_skip())
    try:
        yield running
    finally:
        running.close()


def _click(browser: Browser, element_id: str) -> None:
    browser.evaluate(f"document.getElementById({json.dumps(element_id)}).click()")


def _fill(browser: Browser, element_id: str, value: str) -> None:
    browser.evaluate(
        f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}"
    )


def _fail(served: ServedGateway) -> None:
    with pytest.raises(openai.APIStatusError):
        served.client(MASTER).chat.completions.create(
            model="shaky", messages=[{"role": "user", "content": "hi"}]
        )


def test_a_user_drives_the_dashboard_in_chromium(sqlite_url: str, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SHOTS}")
    with serve(config(sqlite_url)) as served:
        ui = f"{served.url}/ui"
        # log in
        browser.open(f"{ui}/login")
        browser.screenshot(SHOTS / "01-login.png")
        _fill(browser, "key", MASTER)
        _click(browser, "login")
        browser.wait_for(
            "location.pathname === '/ui/providers' && !!document.getElementById('providers')"
        )
        assert "switchyard_session" not in browser.evaluate("document.cookie")  # HttpOnly
        breaker = "document.querySelector('[data-breaker=\"flaky/f1\"]').textContent"
        assert browser.evaluate(breaker) == "closed"
        browser.screenshot(SHOTS / "02-providers-closed.png")

        # the upstream fails until its breaker opens: the page (polling with htmx) shows it
        _fail(served)
        _fail(served)
        browser.wait_for(f"{breaker} === 'open'", timeout=15)
        browser.screenshot(SHOTS / "03-providers-breaker-open.png")
        _click(browser, "test-flaky")
        tested = browser.wait_for("document.querySelector('.flash')?.textContent")
        assert tested.startswith("test of flaky: "), tested
        browser.screenshot(SHOTS / "04-provider-tested.png")

        # create a key, then revoke it
        browser.open(f"{ui}/keys")
        _fill(browser, "create-key-tenant", "acme")
        _fill(browser, "create-key-name", "from-the-browser")
        _click(browser, "create-key-submit")
        flash = browser.wait_for(
            "location.pathname === '/ui/keys' && document.querySelector('.flash')?.textContent"
        )
        assert "sk-sy-" in flash
        key_id = browser.evaluate("document.querySelector('#keys [data-key]').dataset.key")
        browser.screenshot(SHOTS / "05-key-created.png")
        _click(browser, f"revoke-{key_id}")
        browser.wait_for(
            f"document.querySelector('.flash')?.textContent.includes('key {key_id} revoked')"
        )
        assert browser.evaluate(f"!document.getElementById('revoke-{key_id}')")
        browser.screenshot(SHOTS / "06-key-revoked.png")

        # usage: the charts are drawn (Chart.js, vendored)
        browser.open(f"{ui}/usage")
        browser.wait_for(
            "typeof Chart !== 'undefined' && !!Chart.getChart('chart-requests-by-day')"
        )
        browser.screenshot(SHOTS / "07-usage.png")
        browser.open(f"{ui}/errors")
        assert "shaky" in browser.evaluate("document.getElementById('errors').textContent")

        # limits and budgets: the page follows what a tenant's requests use (htmx, every 5 s)
        browser.open(f"{ui}/limits")
        used = (
            "document.querySelector('[data-reading=\"tenant:acme:budget\"]')"
            ".closest('tr').children[5].textContent"
        )
        assert browser.wait_for(used).startswith("$0.000000"), browser.evaluate(used)
        assert served.gateway.accounts is not None
        _, acme_key = served.call(served.gateway.accounts.create_key(KeySpec(tenant="acme")))
        served.client(acme_key).chat.completions.create(
            model="smart", messages=[{"role": "user", "content": "hi"}]
        )
        browser.wait_for(f"!{used}.startsWith('$0.000000')", timeout=20)
        browser.screenshot(SHOTS / "07b-limits.png")

        # stream in the playground: chunks appear as they arrive
        browser.open(f"{ui}/playground")
        browser.evaluate(
            "window.seen = []; new MutationObserver(() => window.seen.push("
            "document.getElementById('output').textContent)).observe("
            "document.getElementById('output'), "
            "{childList: true, characterData: true, subtree: true})"
        )
        browser.evaluate("document.getElementById('model').value = 'smart'")
        _fill(browser, "prompt", "count to five")
        _click(browser, "send")
        status = browser.wait_for(
            "document.getElementById('status').textContent.startsWith('done') && "
            "document.getElementById('status').textContent"
        )
        assert "served by p/m1" in status, status
        assert browser.evaluate("document.getElementById('output').textContent") == (
            "one two three four five"
        )
        seen = browser.evaluate("window.seen")
        partial = [text for text in seen if text and text != "one two three four five"]
        assert partial, f"the answer appeared at once, not chunk by chunk: {seen}"
        assert int(browser.evaluate("document.getElementById('output').dataset.chunks")) >= 2
        browser.screenshot(SHOTS / "08-playground.png")

        # log out: the pages send the browser back to the login form
        _click(browser, "logout")
        browser.wait_for("location.pathname === '/ui/login'")
        browser.call("Page.navigate", {"url": f"{ui}/keys"})
        browser.wait_for("location.pathname === '/ui/login' && !!document.getElementById('key')")
        browser.screenshot(SHOTS / "09-logged-out.png")
    assert len(list(SHOTS.glob("*.png"))) >= 8
