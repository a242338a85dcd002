"""Two gateways sharing one PostgreSQL database and Redis: a key revoked on replica A is refused
by replica B (a real ``switchyard serve`` process, its key cache set to 30 s) within a second.
Without the Redis announcement B would accept the key until its cache expired."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from redis import Redis

from switchyard.tenancy.settings import KeySpec
from tests.databases import read_usage
from tests.e2e.served import serve
from tests.e2e.served_process import serve_process

MASTER = "sk-master-0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
REDIS = "redis://127.0.0.1:6379/0"


def config(url: str, port: int | str) -> dict[str, Any]:
    return {
        "server": {"master_key": MASTER, "port": port},
        "storage": {
            "url": url,
            "redis_url": REDIS,
            "key_cache_seconds": 30,
            "flush_seconds": 0.05,
        },
        "providers": {"a": {"type": "fake", "reply": "ok"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
        "tenants": [{"name": "acme", "models": ["smart"]}],
    }


def chat(url: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions",
        headers={"authorization": f"Bearer {key}"},
        json={"model": "smart", "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    )


def test_a_key_revoked_on_one_replica_is_refused_by_another_within_a_second(
    postgres_url: str, tmp_path: Path
) -> None:
    try:
        Redis.from_url(REDIS).ping()
    except OSError as exc:  # pragma: no cover - the machine's Redis is down
        pytest.skip(f"Redis is not reachable ({exc})")
    replica_b = yaml.safe_dump(config(postgres_url, "PORT"))
    with serve(config(postgres_url, 0)) as a, serve_process(replica_b, tmp_path) as b:
        accounts = a.gateway.accounts
        assert accounts is not None
        row, secret = a.call(accounts.create_key(KeySpec(tenant="acme", user="ada")))
        for _ in range(5):  # B looks the key up once and caches it for 30 s
            assert chat(b.url, secret).status_code == 200
        assert chat(a.url, secret).status_code == 200

        a.call(accounts.revoke_key(row.id))  # through A's accounts: A's listeners announce it
        revoked = time.monotonic()
        while True:
            reply = chat(b.url, secret)
            if reply.status_code == 401:
                break
            assert reply.status_code == 200
            assert time.monotonic() - revoked < 5, "B still accepts the revoked key"
            time.sleep(0.01)
        elapsed = time.monotonic() - revoked
        assert elapsed < 1.0, f"B refused the key only after {elapsed:.3f} s"
        assert "revoked" in reply.json()["error"]["message"]
        assert chat(a.url, secret).status_code == 401
        assert b.stop() == 0  # B drains: its usage rows are written

    rows, _ = asyncio.run(read_usage(postgres_url))
    answered = [r for r in rows if r["status"] == "success"]
    assert len(answered) >= 6
    assert {(r["tenant"], r["key_id"], r["user"]) for r in answered} == {("acme", row.id, "ada")}
