"""What the served gateway says about a deployment, as an operator reads it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.served import ServedGateway


def deployment(served: ServedGateway, key: str, master_key: str | None = None) -> dict[str, Any]:
    """``key``'s entry (health and breaker) in ``GET /api/v1/providers``."""
    auth = {"authorization": f"Bearer {master_key}"} if master_key else {}
    body = httpx.get(f"{served.url}/api/v1/providers", headers=auth).json()
    for provider in body["data"]:
        for entry in provider["deployments"]:
            if entry["key"] == key:
                return dict(entry)
    raise AssertionError(f"{key} is not in /api/v1/providers")


__all__ = ["deployment"]
