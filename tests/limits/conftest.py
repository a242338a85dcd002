"""The limits' backends for tests: memory, and real Redis on 127.0.0.1:6379 under a key prefix
of the test's own (deleted after it); a private ``redis-server`` for outage tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up(url: str = REDIS_URL) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis; its keys are removed after."""
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"sytest:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def limits_backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``limits`` section for each backend (without ``global``)."""
    if request.param == "memory":
        return {"backend": "memory"}
    prefix = request.getfixturevalue("redis_prefix")
    return {"backend": "redis", "url": REDIS_URL, "prefix": prefix}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivateRedis:
    """A ``redis-server`` of the test's own, to stop and start again."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _redis_up(self.url):
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(_free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
