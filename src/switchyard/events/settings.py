"""The ``events:`` section: usage events published through FastStream (issue 11, "Events").

Absent: no event is built or published, and FastStream is never imported."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EventName = Literal["request_started", "request_completed", "failure"]
EVENT_NAMES: tuple[EventName, ...] = ("request_started", "request_completed", "failure")
Backend = Literal["kafka", "nats", "rabbitmq", "redis"]


class EventsSettings(BaseModel):
    """``events:``. Each event ``llm_provider.<name>.v1`` goes to the topic (Kafka), subject
    (NATS), queue (RabbitMQ) or stream (Redis Streams) ``topic_prefix + type``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend
    url: str = Field(
        min_length=1,
        description="kafka: host:port[,host:port]; nats://host:port; "
        "amqp://user:password@host:port/vhost; redis://host:port/db",
    )
    topic_prefix: str = Field(
        default="",
        max_length=200,
        pattern=r"^[A-Za-z0-9._-]*$",
        description='prepended to every event type ("huleedu." gives '
        '"huleedu.llm_provider.request_completed.v1")',
    )
    source: str = Field(
        default="switchyard", min_length=1, max_length=200, description="the envelope's source"
    )
    enabled: tuple[EventName, ...] = Field(
        default=EVENT_NAMES, description="which events are published (all three by default)"
    )
    queue_size: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="events waiting to be published; past it, new events are dropped (counted)",
    )
    retries: int = Field(
        default=3, ge=0, le=20, description="extra tries of a failed publish before the drop"
    )
    backoff_seconds: float = Field(
        default=0.2, ge=0, le=60, description="the first wait before a retry (doubling)"
    )
    publish_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60, description="one connect or publish at most"
    )
    publishers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="batches in flight at once (one connection); more only help a broker "
        "whose acknowledgements are slow",
    )
    flush_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="on shutdown, how long queued events may take to go out",
    )
    max_stream_length: int = Field(
        default=1_000_000,
        ge=1,
        description="redis only: each stream is trimmed to about this many entries",
    )

    @field_validator("enabled")
    @classmethod
    def _once_each(cls, value: tuple[EventName, ...]) -> tuple[EventName, ...]:
        return tuple(dict.fromkeys(value))

    def topic(self, name: EventName) -> str:
        """Where ``name``'s events go: ``topic_prefix`` + ``llm_provider.<name>.v1``."""
        return f"{self.topic_prefix}{event_type(name)}"


def event_type(name: EventName) -> str:
    """The envelope's ``type`` of an event: ``llm_provider.<name>.v1``."""
    return f"llm_provider.{name}.v1"


__all__ = ["EVENT_NAMES", "Backend", "EventName", "EventsSettings", "event_type"]
