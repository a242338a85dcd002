"""The four FastStream brokers behind one small interface: connect, publish, ping, close.

FastStream (the ``events`` extra) is imported here, when the publisher is built, and only when
an ``events:`` section exists. Every message is the envelope's JSON bytes with the header
``content-type: application/json``, so a FastStream subscriber gets it as a ``dict``; the
message's correlation id is the event's id. :meth:`EventBroker.publish` takes the events that
were waiting together and sends them the cheapest way the broker allows (one Redis pipeline;
Kafka and RabbitMQ acknowledgements awaited together). It returns those that failed, so only
they are tried again; when none could be sent it raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from switchyard.events.envelope import CONTENT_TYPE
from switchyard.events.settings import EventsSettings

HEADERS = {"content-type": CONTENT_TYPE}
# FastStream's own log lines (connections, reconnections) go here, quietly
FASTSTREAM_LOG = logging.getLogger("switchyard.events.faststream")


class Message(NamedTuple):
    topic: str
    body: bytes
    key: str  # the request id
    id: str  # the event's id


class EventBroker(Protocol):
    broker: Any  # the FastStream broker (tests wrap it in TestKafkaBroker and the like)

    async def connect(self) -> None: ...

    async def publish(self, messages: Sequence[Message]) -> Sequence[Message]:
        """Send ``messages``; the ones that failed (raises when the first cannot be sent)."""
        ...

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

    async def publish(self, messages: Sequence[Message]) -> Sequence[Message]:
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

    async def publish(self, messages: Sequence[Message]) -> Sequence[Message]:
        # each handed to the producer's batches, then every acknowledgement awaited together
        sent: list[tuple[Message, Any]] = []
        for i, m in enumerate(messages):
            try:
                future = await self.broker.publish(
                    m.body,
                    m.topic,
                    key=m.key.encode(),
                    headers=HEADERS,
                    correlation_id=m.id,
                    no_confirm=True,
                )
            except Exception:
                if not sent:
                    raise
                return [*await _unacknowledged(sent), *messages[i:]]
            sent.append((m, future))
        return await _unacknowledged(sent)


class NatsEvents(_FastStream):
    """Core NATS subjects (a JetStream stream whose subjects cover them keeps them)."""

    def _build(self) -> Any:
        from faststream.nats import NatsBroker

        return NatsBroker(self.settings.url, logger=FASTSTREAM_LOG, log_level=logging.DEBUG)

    async def publish(self, messages: Sequence[Message]) -> Sequence[Message]:
        # FastStream's own NATS client (the broker's connection), with the content-type header
        # FastStream's publish would set: its publish pipeline cost half as much again per
        # event (callgrind: 91 k instructions a FastStream publish, 60 k the client's)
        publish = self.broker.connection.publish
        for i, m in enumerate(messages):  # buffered by the NATS client, written in the background
            try:
                await publish(m.topic, m.body, headers=HEADERS)
            except Exception:
                if i == 0:
                    raise
                return messages[i:]
        return ()


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

    async def publish(self, messages: Sequence[Message]) -> Sequence[Message]:
        # each publish waits for the broker's confirmation: they wait together
        results = await asyncio.gather(
            *(self._publish(m) for m in messages), return_exceptions=True
        )
        return _failed(messages, results)

    async def _publish(self, m: Message) -> None:
        await self.broker.publish(
            m.body,
            queue=m.topic,
            persist=True,
            content_type=CONTENT_TYPE,
            correlation_id=m.id,
            message_id=m.id,
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

    _client: Any = None  # the broker's Redis client, for pipelines

    async def connect(self) -> None:
        self._client = await self.broker.connect()

    async def publish(self, messages: Sequence[Message]) -> Sequence[Message]:
        maxlen, publish = self.settings.max_stream_length, self.broker.publish
        async with self._client.pipeline(transaction=False) as pipe:  # one round trip
            for m in messages:
                await publish(
                    m.body,
                    stream=m.topic,
                    maxlen=maxlen,
                    headers=HEADERS,
                    correlation_id=m.id,
                    pipeline=pipe,
                )
            return _failed(messages, await pipe.execute(raise_on_error=False))


def _failed(messages: Sequence[Message], results: Sequence[object]) -> Sequence[Message]:
    """The messages whose result is an error; raises it when every one failed."""
    failed = [m for m, r in zip(messages, results, strict=True) if isinstance(r, BaseException)]
    if failed and len(failed) == len(messages):
        error = next(r for r in results if isinstance(r, BaseException))
        raise error
    return failed


async def _unacknowledged(sent: list[tuple[Message, Any]]) -> list[Message]:
    """Of the messages sent, those whose acknowledgement failed (FastStream's TestKafkaBroker
    delivers at once and hands back no future: nothing to wait for)."""
    waiting = [(m, future) for m, future in sent if future is not None]
    results = await asyncio.gather(*(f for _, f in waiting), return_exceptions=True)
    return [m for (m, _), r in zip(waiting, results, strict=True) if isinstance(r, BaseException)]


BACKENDS: dict[str, type[_FastStream]] = {
    "kafka": KafkaEvents,
    "nats": NatsEvents,
    "rabbitmq": RabbitEvents,
    "redis": RedisEvents,
}


def build_broker(settings: EventsSettings) -> EventBroker:
    return BACKENDS[settings.backend](settings)


__all__ = ["BACKENDS", "EventBroker", "Message", "build_broker"]
