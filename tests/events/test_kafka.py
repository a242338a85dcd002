"""The Kafka path through FastStream's TestKafkaBroker: no Kafka broker can run on this machine,
so the publisher's own KafkaBroker is patched in memory and a FastStream subscriber on it gets
what the gateway published (topics, message key, headers and body as Kafka would carry them)."""

from __future__ import annotations

from typing import Any

from faststream import Context
from faststream.kafka import KafkaBroker, TestKafkaBroker

from switchyard import Gateway
from switchyard.types import Principal

PREFIX = "huleedu."


async def test_kafka_topics_keys_and_envelopes() -> None:
    gateway = Gateway.from_config(
        {
            "providers": {"a": {"type": "fake", "reply": "hello there"}},
            "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "a-1"}]}],
            "events": {"backend": "kafka", "url": "127.0.0.1:9092", "topic_prefix": PREFIX},
        }
    )
    assert gateway.events is not None
    broker = gateway.events.broker.broker
    assert isinstance(broker, KafkaBroker)
    got: list[tuple[str, bytes | None, dict[str, Any]]] = []

    for name in ("request_started", "request_completed"):
        topic = f"{PREFIX}llm_provider.{name}.v1"

        def handler(topic: str = topic) -> Any:
            async def handle(body: dict[str, Any], message: Any = Context("message")) -> None:
                got.append((topic, message.raw_message.key, body))

            return handle

        broker.subscriber(topic)(handler())

    async with TestKafkaBroker(broker, connect_only=False):
        async with gateway:
            principal = Principal(request_id="req-kafka-1", tenant="acme")
            await gateway.chat(
                model="smart", messages=[{"role": "user", "content": "hi"}], principal=principal
            )
    assert [topic for topic, _, _ in got] == [
        "huleedu.llm_provider.request_started.v1",
        "huleedu.llm_provider.request_completed.v1",
    ]
    for _, key, body in got:
        assert key == b"req-kafka-1"  # one request's events share a partition
        assert body["data"]["request_id"] == "req-kafka-1"
        assert body["data"]["tenant"] == "acme"
    completed = got[1][2]
    assert completed["type"] == "llm_provider.request_completed.v1"
    assert completed["data"]["provider"] == "a" and completed["data"]["status"] == "success"
    assert gateway.events.published == 2 and gateway.events.dropped == 0
