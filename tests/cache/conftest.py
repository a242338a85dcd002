"""A real Redis on 127.0.0.1 for the shared response cache, a key prefix of its own per test,
and a private ``redis-server`` a test may stop and start again."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from tests.resilience.conftest import REDIS_URL, connect_or_skip, delete_prefix

__all__ = ["REDIS_URL", "PrivateRedis"]


@pytest.fixture
async def cache_prefix() -> AsyncIterator[str]:
    """A key prefix no other test (or run) uses; every key under it is deleted afterwards."""
    client: Redis = await connect_or_skip()
    prefix = f"switchyard-test:{uuid.uuid4().hex}:cache:"
    yield prefix
    await delete_prefix(client, prefix)
    await client.aclose()


class PrivateRedis:
    """``redis-server`` on a spare port, without persistence: stop it, start it again."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the private redis-server did not start") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
