"""What a test needs from this machine (Redis, PostgreSQL, the brokers, Chromium, root): when
it is missing, a developer's run skips the test and CI (``CI=true``) fails it, never a silent
skip there."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest
import redis

REDIS_URL = os.environ.get("SWITCHYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def missing(message: str) -> NoReturn:
    """Skip the test, or fail it under ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_redis(url: str = REDIS_URL) -> str:
    """``url`` when its Redis answers a ping, else :func:`missing`."""
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except (redis.RedisError, OSError) as exc:
        missing(f"Redis is not reachable at {url} ({exc}); run `bash .ci/services.sh`")
    return url
