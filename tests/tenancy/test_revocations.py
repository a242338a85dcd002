"""Revocations announced over the real Redis on 127.0.0.1:6379: heard by every subscriber, and
heard again after the subscriber's connection is killed (it reconnects, and drops its cache)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from switchyard.tenancy.revocations import RevocationBroadcast
from tests.services import missing

URL = "redis://127.0.0.1:6379/0"


class Replica:
    def __init__(self, channel: str, name: str) -> None:
        self.heard: list[str] = []
        self.resubscribed = 0
        self.got = asyncio.Event()
        self.broadcast = RevocationBroadcast(
            URL,
            self.on_revoked,
            self.on_resubscribed,
            channel=channel,
            backoff=(0.05, 0.2),
            client_name=name,
        )

    async def on_revoked(self, key_id: str) -> None:
        self.heard.append(key_id)
        self.got.set()

    def on_resubscribed(self) -> None:
        self.resubscribed += 1


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(URL)
    try:
        await client.ping()
    except OSError as exc:  # the machine's Redis is down: a failure under CI=true
        missing(f"Redis is not reachable at {URL} ({exc}); run `bash .ci/services.sh`")
    yield client
    await client.aclose()


async def test_a_revocation_reaches_every_replica_within_a_second(redis: Redis) -> None:
    channel = f"test:revoked:{uuid.uuid4().hex}"
    a, b = Replica(channel, "test-a"), Replica(channel, "test-b")
    await a.broadcast.start()
    await b.broadcast.start()
    try:
        assert a.broadcast.subscribed.is_set() and b.broadcast.subscribed.is_set()
        began = time.monotonic()
        await a.broadcast.publish("0123456789ab")
        await asyncio.wait_for(b.got.wait(), 1.0)
        assert time.monotonic() - began < 1.0
        await asyncio.wait_for(a.got.wait(), 1.0)  # the announcer hears itself too
        assert a.heard == b.heard == ["0123456789ab"]
        await redis.publish(channel, "not a key id")  # anything else on the channel: ignored
        await a.broadcast.publish("ba9876543210")
        await asyncio.sleep(0.2)
        assert b.heard == ["0123456789ab", "ba9876543210"]
    finally:
        await a.broadcast.aclose()
        await b.broadcast.aclose()


async def test_the_subscriber_reconnects_after_its_connection_is_killed(redis: Redis) -> None:
    channel = f"test:revoked:{uuid.uuid4().hex}"
    name = f"test-{uuid.uuid4().hex[:12]}"
    replica = Replica(channel, name)
    await replica.broadcast.start()
    try:
        assert replica.resubscribed == 1
        clients = await redis.client_list()
        ours = [c["id"] for c in clients if c.get("name") == name]
        assert ours, clients
        for client_id in ours:
            await redis.client_kill_filter(_id=client_id)
        deadline = time.monotonic() + 5
        while replica.resubscribed < 2:
            assert time.monotonic() < deadline, "did not resubscribe"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        await redis.publish(channel, "0123456789ab")
        await asyncio.wait_for(replica.got.wait(), 1.0)
        assert replica.heard == ["0123456789ab"]
    finally:
        await replica.broadcast.aclose()


async def test_a_publish_with_redis_down_logs_and_does_not_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = RevocationBroadcast("redis://127.0.0.1:1/0", _ignore, lambda: None, backoff=(1, 1))
    try:
        await dead.start(wait=0.2)  # starts anyway, unsubscribed
        assert not dead.subscribed.is_set()
        await dead.publish("0123456789ab")
        assert "could not announce the revocation of key 0123456789ab" in caplog.text
    finally:
        await dead.aclose()


async def _ignore(key_id: str) -> None:
    return None


async def test_a_publish_only_broadcast_as_the_cli_uses_it(redis: Redis) -> None:
    channel = f"test:revoked:{uuid.uuid4().hex}"
    replica = Replica(channel, "test-replica")
    await replica.broadcast.start()
    announcer = RevocationBroadcast(URL, channel=channel)  # no callbacks, never started
    try:
        await announcer.publish("00aa11bb22cc")
        await asyncio.wait_for(replica.got.wait(), 1.0)
        assert replica.heard == ["00aa11bb22cc"]
    finally:
        await announcer.aclose()
        await replica.broadcast.aclose()
