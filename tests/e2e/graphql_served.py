"""A served gateway for the GraphQL tests: a fake provider, two aliases, two tenants, a master
key, a SQLite ledger and a sink that keeps every RequestRecord."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from switchyard import Gateway
from switchyard.records.record import RequestRecord
from switchyard.tenancy.settings import KeySpec
from tests.e2e.record_essentials import essentials
from tests.e2e.served import ServedGateway, serve

MASTER = "sk-master-5b1d3f7a9c0e2d4b6f8a1c3e5d7b9f02"
AUTH = {"Authorization": f"Bearer {MASTER}"}
REPLY = "one two three four five six"
PRICES = {"input": 1, "output": 2}


class Records:
    """A record sink: what the gateway recorded, readable from the test's thread."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)

    def wait(self, count: int, timeout: float = 10.0) -> list[RequestRecord]:
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.records) == count, self.records
        return list(self.records)


def config(url: str, server: dict[str, Any] | None = None, **fake: Any) -> dict[str, Any]:
    return {
        "server": {"master_key": MASTER, **(server or {})},
        "storage": {"url": url, "flush_seconds": 0.05},
        "providers": {"a": {"type": "fake", "reply": REPLY, **fake}},
        "models": [
            {
                "name": "smart",
                "deployments": [{"provider": "a", "model": "gpt-4.1-mini", "prices": PRICES}],
            },
            {"name": "fast", "deployments": [{"provider": "a", "model": "f"}]},
        ],
        "router": {"retries": 0},
        "tenants": [
            {"name": "acme", "models": ["fast", "smart"], "default_model": "fast"},
            {"name": "globex", "models": ["smart"]},
        ],
    }


@contextmanager
def served_gateway(
    url: str, server: dict[str, Any] | None = None, **fake: Any
) -> Iterator[tuple[ServedGateway, Records]]:
    """The served gateway (``server``: more settings of that section; ``fake``: the fake
    provider's) and its records."""
    records = Records()
    gateway = Gateway.from_config(config(url, server, **fake), sinks=[records])
    with serve(gateway) as served:
        yield served, records


def make_key(served: ServedGateway, tenant: str = "acme", **spec: Any) -> tuple[str, str]:
    """A new virtual key's ``(id, secret)``."""
    accounts = served.gateway.accounts
    assert accounts is not None
    row, secret = served.call(accounts.create_key(KeySpec(tenant=tenant, **spec)))
    return row.id, secret


def post(
    served: ServedGateway,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(
        f"{served.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=AUTH if headers is None else headers,
        timeout=30,
    )


def ws_url(served: ServedGateway) -> str:
    return f"ws://127.0.0.1:{served.port}/graphql"


__all__ = [
    "AUTH",
    "MASTER",
    "REPLY",
    "Records",
    "essentials",
    "make_key",
    "post",
    "served_gateway",
    "ws_url",
]
