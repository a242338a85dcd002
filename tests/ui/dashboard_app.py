"""A served gateway for the dashboard's tests, and a browser-like client that logs in."""

from __future__ import annotations

import re
from typing import Any

import httpx

MASTER = "sk-test-master"
LOGIN = "/ui/login"
PRICES = {"input": 1.0, "output": 2.0}


def config(storage_url: str, **providers: Any) -> dict[str, Any]:
    """Two tenants (acme: smart only; globex: everything), a fake provider answering, and
    ``flaky``, a fake provider failing every call (its breaker opens after two failures)."""
    return {
        "server": {"master_key": MASTER},
        "providers": {
            "p": {"type": "fake", "reply": "one two three four five", "tokens_per_second": 50},
            "flaky": {"type": "fake", "failure": {"mode": "status", "status": 503}},
            **providers,
        },
        "models": [
            {"name": "smart", "deployments": [{"provider": "p", "model": "m1", "prices": PRICES}]},
            {"name": "fast", "deployments": [{"provider": "p", "model": "m2", "prices": PRICES}]},
            {
                "name": "shaky",
                "circuit_breaker": {"failure_threshold": 2, "recovery_timeout": 300},
                "deployments": [{"provider": "flaky", "model": "f1", "prices": PRICES}],
            },
        ],
        "router": {"retries": 0},
        "storage": {"url": storage_url, "flush_seconds": 0.05},
        "tenants": [
            {"name": "acme", "models": ["smart", "shaky"], "budget": {"usd": 5, "period": "month"}},
            {"name": "globex"},
        ],
    }


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert found is not None, html[:500]
    return found.group(1)


def log_in(client: httpx.Client, key: str) -> httpx.Response:
    """Open the login form (its CSRF cookie), post the key; the session cookie stays in
    ``client``'s jar. Answers the page the login redirected to."""
    form = client.get(LOGIN)
    answer = client.post(LOGIN, data={"csrf": csrf_of(form.text), "key": key})
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"])
