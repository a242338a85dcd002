"""The four FastStream brokers behind one small interface: connect, publish, ping, close.

FastStream (the ``events`` extra) is imported here, when the publisher is built, and only when
an ``events:`` section exists. Every message is the envelope's JSON bytes with the header
``content-type: application/json``, so a FastStream subscriber gets it as a ``dict``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from switchyard.events.envelope import CONTENT_TYPE
from switchyard.events.settings import EventsSettings

HEADERS = {"content-type": CONTENT_TYPE}
# FastStream's own log lines (connections, reconnections) go here, quietly
FASTSTREAM_LOG = logging.getLogger("switchyard.events.faststream")


class EventBroker(Protocol):
    broker: Any  # the FastStream broker (tests wrap it in TestKafkaBroker and the like)

    async def connect(self) -> None: ...

    async def publish(self, topic: str, body: bytes, key: str) -> None: ...

    async def ping(self, within: float) -> bool: ...

    async def close(self) -> None: ...


class _FastStream:
    """What every backend shares; subclasses say how to build the broker and publish."""

    def __init__(self, settings: EventsSettings) -> None:
        self.settings = settings
        self.broker: Any = self._build()

    def _build(self) -> Any:
        raise NotImplementedError

    async def connect(self) -> None:
        await self.broker.connect()

    async def publish(self, topic: str, body: bytes, key: str) -> None:
        raise NotImplementedError

    async def ping(self, within: float) -> bool:
        return bool(await self.broker.ping(within))

    async def close(self) -> None:
        await self.broker.stop()


class KafkaEvents(_FastStream):
    """Topics; the request id is the message key, so one request's events share a partition."""

    def _build(self) -> Any:
        from faststream.kafka import KafkaBroker

        servers = [s.strip() for s in self.settings.url.split(",") if s.strip()]
        timeout_ms = int(self.settings.publish_timeout_seconds * 1000)
        return KafkaBroker(
            servers, request_timeout_ms=timeout_ms, logger=FASTSTREAM_LOG, log_level=logging.DEBUG
        )

    async def publish(self, topic: str, body: bytes, key: str) -> None:
        await self.broker.publish(body, topic, key=key.encode(), headers=HEADERS)


class NatsEvents(_FastStream):
    """Core NATS subjects (a JetStream stream whose subjects cover them keeps them)."""

    def _build(self) -> Any:
        from faststream.nats import NatsBroker

        return NatsBroker(self.settings.url, logger=FASTSTREAM_LOG, log_level=logging.DEBUG)

    async def publish(self, topic: str, body: bytes, key: str) -> None:
        await self.broker.publish(body, topic, headers=HEADERS)


class RabbitEvents(_FastStream):
    """A durable queue per event type (declared on connect), persistent messages, through the
    default exchange with the queue's name as the routing key."""

    def _build(self) -> Any:
        from faststream.rabbit import RabbitBroker

        return RabbitBroker(self.settings.url, logger=FASTSTREAM_LOG, log_level=logging.DEBUG)

    async def connect(self) -> None:
        from faststream.rabbit import RabbitQueue

        await self.broker.connect()
        for name in self.settings.enabled:
            await self.broker.declare_queue(RabbitQueue(self.settings.topic(name), durable=True))

    async def publish(self, topic: str, body: bytes, key: str) -> None:
        await self.broker.publish(
            body,
            queue=topic,
            persist=True,
            content_type=CONTENT_TYPE,
            timeout=self.settings.publish_timeout_seconds,
        )


class RedisEvents(_FastStream):
    """Redis Streams, each trimmed to about ``max_stream_length`` entries (FastStream's message
    framing: read them with FastStream's ``RedisBroker``, ``stream=...``)."""

    def _build(self) -> Any:
        from faststream.redis import RedisBroker

        timeout = self.settings.publish_timeout_seconds
        return RedisBroker(
            self.settings.url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            logger=FASTSTREAM_LOG,
            log_level=logging.DEBUG,
        )

    async def publish(self, topic: str, body: bytes, key: str) -> None:
        await self.broker.publish(
            body, stream=topic, maxlen=self.settings.max_stream_length, headers=HEADERS
        )


BACKENDS: dict[str, type[_FastStream]] = {
    "kafka": KafkaEvents,
    "nats": NatsEvents,
    "rabbitmq": RabbitEvents,
    "redis": RedisEvents,
}


def build_broker(settings: EventsSettings) -> EventBroker:
    return BACKENDS[settings.backend](settings)


__all__ = ["BACKENDS", "EventBroker", "build_broker"]
