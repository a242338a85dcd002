"""Real consumers of the events the gateway publishes, on the brokers of this machine.

Each consumer is a FastStream subscriber, as a team consuming the events would write it. A
broker that is not running skips the test on a developer's machine (run
``bash .ci/services.sh``) and fails it in CI (``CI=true``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from switchyard.events.settings import EVENT_NAMES, event_type
from tests.services import missing

URLS = {
    "nats": os.environ.get("SWITCHYARD_TEST_NATS_URL", "nats://127.0.0.1:4222"),
    "rabbitmq": os.environ.get("SWITCHYARD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    "redis": os.environ.get("SWITCHYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
PORTS = {"nats": 4222, "rabbitmq": 5672, "redis": 6379}


def require(backend: str) -> str:
    """The broker's URL; skip (fail in CI) when nothing listens on its port."""
    try:
        socket.create_connection(("127.0.0.1", PORTS[backend]), timeout=2).close()
    except OSError as exc:
        missing(
            f"{backend} is not reachable on 127.0.0.1:{PORTS[backend]} ({exc}); "
            "run `bash .ci/services.sh`"
        )
    return URLS[backend]


def new_prefix() -> str:
    """A topic prefix no other test or run uses."""
    return f"sytest.{uuid.uuid4().hex[:12]}."


class Received:
    """What a consumer got: envelopes (dicts) as they arrived, and the raw content types."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.content_types: list[str | None] = []
        self.topics: list[str] = []
        self.arrived = asyncio.Event()

    async def wait_for(self, count: int, within: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while len(self.events) < count and time.monotonic() < deadline:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        assert len(self.events) >= count, f"got {len(self.events)} events, wanted {count}"
        return self.events

    def of_type(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == f"llm_provider.{name}.v1"]


@asynccontextmanager
async def consume(backend: str, url: str, prefix: str) -> AsyncIterator[Received]:
    """A FastStream subscriber on each of the three topics ``prefix + type``."""
    from faststream import Context

    received = Received()
    topics = [prefix + event_type(name) for name in EVENT_NAMES]
    broker: Any
    cleanup = None
    if backend == "nats":
        from faststream.nats import NatsBroker

        broker = NatsBroker(url)
        subscribe = [{"subject": t} for t in topics]
    elif backend == "rabbitmq":
        from faststream.rabbit import RabbitBroker, RabbitQueue

        broker = RabbitBroker(url)
        queues = [RabbitQueue(t, durable=True) for t in topics]
        subscribe = [{"queue": q} for q in queues]

        async def cleanup() -> None:
            for q in queues:
                declared = await broker.declare_queue(q)
                await declared.delete(if_unused=False, if_empty=False)

    else:
        from faststream.redis import RedisBroker, StreamSub

        broker = RedisBroker(url)
        subscribe = [{"stream": StreamSub(t, last_id="0", polling_interval=20)} for t in topics]

        async def cleanup() -> None:
            from redis.asyncio import Redis

            client = Redis.from_url(url)
            try:
                await client.delete(*topics)
            finally:
                await client.aclose()

    for topic, where in zip(topics, subscribe, strict=True):

        def handler(topic: str = topic) -> Any:
            async def handle(body: dict[str, Any], message: Any = Context("message")) -> None:
                received.events.append(body)
                received.content_types.append(message.content_type)
                received.topics.append(topic)
                received.arrived.set()

            return handle

        broker.subscriber(**where)(handler())
    await broker.start()
    try:
        yield received
    finally:
        try:
            if cleanup is not None:
                await cleanup()
        finally:
            await broker.stop()


__all__ = ["URLS", "Received", "consume", "new_prefix", "require"]
