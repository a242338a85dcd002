"""A real Redis on 127.0.0.1 for the shared breaker store, with a key prefix of its own per test.

Redis not running: the test is skipped on a developer's machine (run ``bash .ci/services.sh``)
and fails in CI (``CI=true``), where a missing service is a broken build, not a reason to skip.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tests.services import REDIS_URL, missing


async def connect_or_skip() -> Redis:
    """A client of the test Redis; skip (fail in CI) when it is not running."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        missing(f"Redis is not reachable at {REDIS_URL} ({exc}); run `bash .ci/services.sh`")
    return client


def new_prefix() -> str:
    return f"switchyard-test:{uuid.uuid4().hex}:breaker:"


async def delete_prefix(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=prefix + "*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = await connect_or_skip()
    yield client
    await client.aclose()


@pytest.fixture
async def breaker_prefix(redis_client: Redis) -> AsyncIterator[str]:
    """A key prefix no other test (or run) uses; every key under it is deleted afterwards."""
    prefix = new_prefix()
    yield prefix
    await delete_prefix(redis_client, prefix)
