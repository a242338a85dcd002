"""The envelope as pure functions (a real record in, JSON out) and the ``events:`` section's
validation, with errors that name the field."""

from __future__ import annotations

import orjson
import pytest

from switchyard.config.load import load_config
from switchyard.errors import ConfigError, ProviderUnavailable
from switchyard.events.envelope import (
    Started,
    encode,
    ended_data,
    ended_name,
    envelope,
    rfc3339,
    started_data,
)
from switchyard.records.record import GuardrailDecision, RequestRecord
from switchyard.types import Cost, Principal, Usage

CALLER = Principal(request_id="r-1", tenant="acme", key_id="key_1", user="ann", tags=("batch",))
BASE = {"providers": {"f": {"type": "fake"}}, "models": []}


def record(**fields: object) -> RequestRecord:
    return RequestRecord(
        principal=CALLER, kind="chat", alias="smart", started_at=1.5, started=0.0, **fields
    )


def test_a_completed_record_becomes_its_event_data() -> None:
    done = record(
        provider="openai",
        model="gpt-4.1",
        usage=Usage(input_tokens=10, output_tokens=5, cached_input_tokens=4, reasoning_tokens=1),
        cost=Cost(input=0.00001, output=0.00002, total=0.00003),
        latency_ms=12.3456,
        upstream_ms=10.0,
    )
    assert ended_name(done) == "request_completed"
    data = ended_data(done)
    assert data["request_id"] == data["correlation_id"] == "r-1"
    assert (data["tenant"], data["key_id"], data["user"]) == ("acme", "key_1", "ann")
    assert orjson.loads(orjson.dumps(data))["tags"] == ["batch"]
    assert data["usage"] == {
        "input_tokens": 10,
        "output_tokens": 5,
        "cached_input_tokens": 4,
        "reasoning_tokens": 1,
        "total_tokens": 15,
        "estimated": False,
    }
    assert data["cost"] == {"input_usd": 0.00001, "output_usd": 0.00002, "total_usd": 0.00003}
    assert data["latency_ms"] == 12.346 and data["status"] == "success"
    assert data["guardrails"] == []
    done.guardrails = (GuardrailDecision("pii-out", "output", "redact"),)
    assert orjson.loads(orjson.dumps(ended_data(done)))["guardrails"] == [
        ["pii-out", "output", "redact"]
    ]


def test_a_failed_record_is_a_failure_with_its_error_type() -> None:
    failed = record()
    failed.failed(ProviderUnavailable("upstream said 503", provider="openai"))
    assert ended_name(failed) == "failure"
    data = ended_data(failed)
    assert data["status"] == "error" and data["error_type"] == "provider_unavailable"
    assert data["usage"] is None and data["cost"] is None
    cancelled = record()
    cancelled.failed(GeneratorExit())
    assert ended_name(cancelled) == "failure" and ended_data(cancelled)["status"] == "cancelled"


def test_the_envelope_is_cloudevents_shaped_json() -> None:
    data = started_data(Started(CALLER, "stream", "smart", 1_764_769_610.1234))
    event = envelope("request_started", "ev-1", "gw-eu", 1_764_769_610.1234, data)
    decoded = orjson.loads(encode(event))
    assert decoded["specversion"] == "1.0" and decoded["source"] == "gw-eu"
    assert decoded["id"] == "ev-1"
    assert decoded["type"] == "llm_provider.request_started.v1"
    assert decoded["time"] == "2025-12-03T13:46:50.123Z"
    assert decoded["datacontenttype"] == "application/json"
    assert decoded["data"] == {
        "request_id": "r-1",
        "correlation_id": "r-1",
        "tenant": "acme",
        "key_id": "key_1",
        "user": "ann",
        "tags": ["batch"],
        "kind": "stream",
        "alias": "smart",
    }
    assert rfc3339(0.0) == "1970-01-01T00:00:00.000Z"


def test_the_events_section_loads() -> None:
    raw = {
        **BASE,
        "events": {"backend": "rabbitmq", "url": "amqp://u:p@h/", "topic_prefix": "huleedu."},
    }
    events = load_config(raw, env={}).events
    assert events is not None and events.backend == "rabbitmq"
    assert load_config(BASE, env={}).events is None  # off when absent


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ({"backend": "kinesis", "url": "x"}, "events.backend"),
        ({"backend": "nats"}, "events.url"),
        ({"backend": "nats", "url": "x", "topic_prefix": "has space"}, "events.topic_prefix"),
        ({"backend": "nats", "url": "x", "queue_size": 0}, "events.queue_size"),
        ({"backend": "nats", "url": "x", "retries": -1}, "events.retries"),
        ({"backend": "nats", "url": "x", "enabled": ["request_ended"]}, "events.enabled"),
        ({"backend": "nats", "url": "x", "brokers": 3}, "events.brokers"),
    ],
)
def test_a_bad_events_section_names_the_field(events: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({**BASE, "events": events}, env={})
    keys = [key for key, _ in caught.value.problems]
    assert any(key.startswith(field) for key in keys), caught.value.problems


def test_faststream_is_imported_only_when_events_are_configured() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from switchyard import Gateway\n"
        "base = {'providers': {'f': {'type': 'fake'}}}\n"
        "Gateway.from_config(base)\n"
        "print('faststream' in sys.modules)\n"
        "Gateway.from_config({**base, 'events': {'backend': 'nats', 'url': 'nats://x'}})\n"
        "print('faststream' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["False", "True"]


def test_rfc3339_agrees_with_isoformat() -> None:
    from datetime import UTC, datetime

    for at in (0.0, 0.9999, 1_764_769_610.1234, 1_764_769_610.5, 4_102_444_799.999):
        iso = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
        assert rfc3339(at) == iso.replace("+00:00", "Z")
