"""Spans of library calls (fake providers, an in-memory exporter): the request span, one
CLIENT child per attempt (failover, hedge, timeout), streams, cache and limit events, content
recording per alias."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode
from tests.telemetry.conftest import Spans

from switchyard import Gateway
from switchyard.errors import LimitExceeded, ProviderUnavailable

HELLO: Any = [{"role": "user", "content": "say hello"}]


def config(**extra: Any) -> dict[str, Any]:
    return {
        "providers": {
            "good": {"type": "fake", "reply": "hello there friend"},
            "down": {"type": "fake", "failure": {"mode": "status", "status": 503}},
            "slow": {"type": "fake", "reply": "slow answer", "latency": 30},
            "stuck": {"type": "fake", "failure": {"mode": "timeout"}},
        },
        "models": [
            {"name": "smart", "deployments": [{"provider": "good", "model": "g-1"}]},
            {
                "name": "failing-over",
                "deployments": [
                    {"provider": "down", "model": "d-1"},
                    {"provider": "good", "model": "g-1"},
                ],
            },
            {
                "name": "hedged",
                "hedge": {"delay": 0.05, "max_extra": 1},
                "deployments": [
                    {"provider": "slow", "model": "s-1"},
                    {"provider": "good", "model": "g-1"},
                ],
            },
            {
                "name": "timing-out",
                "deployments": [
                    {"provider": "stuck", "model": "t-1", "timeout": 0.05},
                    {"provider": "good", "model": "g-1"},
                ],
            },
            {
                "name": "recorded",
                "trace_content": True,
                "deployments": [{"provider": "good", "model": "g-1"}],
            },
        ],
        "router": {"retries": 0},
        **extra,
    }


async def test_a_chat_is_a_request_span_with_one_client_attempt(spans: Spans) -> None:
    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        response = await gateway.chat(model="smart", messages=HELLO, max_tokens=50, temperature=0.5)
    request = spans.request()
    assert request.name == "chat smart"
    assert request.kind == SpanKind.INTERNAL  # a library call; a door's request is SERVER
    attributes = request.attributes or {}
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "smart"
    assert attributes["gen_ai.request.max_tokens"] == 50
    assert attributes["gen_ai.request.temperature"] == 0.5
    assert attributes["gen_ai.provider.name"] == "fake"
    assert attributes["gen_ai.response.model"] == "g-1"
    assert attributes["gen_ai.usage.input_tokens"] == response.usage.input_tokens > 0
    assert attributes["gen_ai.usage.output_tokens"] == response.usage.output_tokens > 0
    assert "switchyard.status" not in attributes  # a success: said by the status
    assert "error.type" not in attributes
    (attempt,) = spans.attempts()
    assert attempt.name == "chat g-1"
    assert attempt.context.trace_id == request.context.trace_id
    attempt_attributes = attempt.attributes or {}
    assert attempt_attributes["switchyard.deployment"] == "good/g-1"
    assert attempt_attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attempt_attributes["switchyard.attempt.outcome"] == "ok"
    assert "switchyard.attempt.hedge" not in attempt_attributes
    # the attempt lies within the request
    assert request.start_time <= attempt.start_time <= attempt.end_time <= request.end_time


async def test_failover_is_two_attempt_children(spans: Spans) -> None:
    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        await gateway.chat(model="failing-over", messages=HELLO)
    failed, answered = spans.attempts()
    assert failed.attributes["switchyard.deployment"] == "down/d-1"  # type: ignore[index]
    assert failed.attributes["error.type"] == "provider_unavailable"  # type: ignore[index]
    assert failed.attributes["switchyard.attempt.outcome"] == "error"  # type: ignore[index]
    assert failed.status.status_code == StatusCode.ERROR
    assert answered.attributes["switchyard.deployment"] == "good/g-1"  # type: ignore[index]
    assert answered.attributes["switchyard.attempt.outcome"] == "ok"  # type: ignore[index]
    assert spans.request().attributes["switchyard.attempts"] == 2  # type: ignore[index]


async def test_a_request_that_fails_is_an_error_span(spans: Spans) -> None:
    only_down = config()
    only_down["models"].append(
        {"name": "broken", "deployments": [{"provider": "down", "model": "d-1"}]}
    )
    async with Gateway.from_config(only_down, tracer_provider=spans.provider) as gateway:
        with pytest.raises(ProviderUnavailable):
            await gateway.chat(model="broken", messages=HELLO)
    request = spans.request()
    assert request.status.status_code == StatusCode.ERROR
    assert request.attributes["error.type"] == "provider_unavailable"  # type: ignore[index]
    assert len(spans.attempts()) == 1


async def test_a_hedge_is_visible_and_the_loser_marked_abandoned(spans: Spans) -> None:
    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        response = await gateway.chat(model="hedged", messages=HELLO)
    assert response.provider == "good"
    first, hedge = spans.attempts()
    assert first.attributes["switchyard.deployment"] == "slow/s-1"  # type: ignore[index]
    assert "switchyard.attempt.hedge" not in first.attributes  # type: ignore[operator]
    assert first.attributes["switchyard.attempt.outcome"] == "abandoned"  # type: ignore[index]
    assert hedge.attributes["switchyard.deployment"] == "good/g-1"  # type: ignore[index]
    assert hedge.attributes["switchyard.attempt.hedge"] is True  # type: ignore[index]
    assert hedge.attributes["switchyard.attempt.outcome"] == "ok"  # type: ignore[index]
    assert spans.request().attributes["switchyard.hedged"] is True  # type: ignore[index]


async def test_a_timed_out_attempt_says_so(spans: Spans) -> None:
    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        await gateway.chat(model="timing-out", messages=HELLO)
    stuck, answered = spans.attempts()
    assert stuck.attributes["switchyard.attempt.outcome"] == "timeout"  # type: ignore[index]
    assert stuck.attributes["error.type"] == "timeout"  # type: ignore[index]
    assert answered.attributes["switchyard.attempt.outcome"] == "ok"  # type: ignore[index]


async def test_a_stream_span_ends_when_the_stream_ends(spans: Spans) -> None:
    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        stream = gateway.stream(model="smart", messages=HELLO)
        first = await anext(aiter(stream))
        assert first is not None
        await asyncio.sleep(0)
        assert spans.finished == ()  # the first chunk is out, the stream is not over
        rest = [chunk async for chunk in stream]
        assert rest
    request = spans.request()
    assert request.name == "chat smart"
    attributes = request.attributes or {}
    ttft = attributes["switchyard.time_to_first_token_ms"]
    assert isinstance(ttft, float) and ttft >= 0
    (event,) = [e for e in request.events if e.name == "switchyard.first_token"]
    assert request.start_time <= event.timestamp <= request.end_time
    assert attributes["gen_ai.usage.output_tokens"] > 0
    (attempt,) = spans.attempts()
    assert attempt.attributes["switchyard.attempt.outcome"] == "ok"  # type: ignore[index]
    # the attempt's span lasted as long as its upstream stream, past the first chunk
    assert attempt.end_time >= event.timestamp  # type: ignore[operator]


async def test_cache_and_limit_decisions_are_events(spans: Spans) -> None:
    limited = config(
        cache={"backend": "memory"},
        limits={"backend": "memory", "global": {"rpm": 2}},
    )
    limited["models"][0]["cache"] = {"ttl_seconds": 60}
    async with Gateway.from_config(limited, tracer_provider=spans.provider) as gateway:
        await gateway.chat(model="smart", messages=HELLO)  # miss
        await gateway.chat(model="smart", messages=HELLO)  # hit
        with pytest.raises(LimitExceeded):
            await gateway.chat(model="smart", messages=HELLO)
    miss, hit, refused = sorted(spans.requests(), key=lambda s: s.start_time or 0)

    def events(span: Any, name: str) -> list[dict[str, Any]]:
        return [dict(e.attributes or {}) for e in span.events if e.name == name]

    assert events(miss, "switchyard.cache") == [{"switchyard.cache.result": "miss"}]
    assert events(hit, "switchyard.cache") == [{"switchyard.cache.result": "hit"}]
    assert hit.attributes["switchyard.cache"] == "hit"  # type: ignore[index]
    assert spans.attempts(hit) == []  # answered from the cache: no attempt
    (admitted,) = events(miss, "switchyard.limits")
    assert admitted["switchyard.limits.decision"] == "admitted"
    assert admitted["switchyard.limits.remaining_requests"] == 1
    assert events(refused, "switchyard.cache") == []  # refused before the cache
    assert events(refused, "switchyard.limits") == [
        {
            "switchyard.limits.decision": "refused",
            "switchyard.limits.level": "global",
            "error.type": "rate_limit_exceeded",
        }
    ]
    assert refused.status.status_code == StatusCode.ERROR


async def test_content_is_recorded_only_for_an_alias_that_asks(spans: Spans) -> None:
    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        await gateway.chat(model="smart", messages=HELLO)
        await gateway.chat(model="recorded", messages=HELLO)
        stream = gateway.stream(model="recorded", messages=HELLO)
        assert "".join([c.text or "" async for c in stream]) == "hello there friend"
    plain, recorded, streamed = sorted(spans.requests(), key=lambda s: s.start_time or 0)
    for span in (plain, *spans.attempts(plain)):
        text = repr(span.attributes) + repr([e.attributes for e in span.events])
        assert "say hello" not in text and "hello there" not in text
        assert "gen_ai.input.messages" not in (span.attributes or {})
    assert "say hello" in recorded.attributes["gen_ai.input.messages"]  # type: ignore[index,operator]
    (attempt,) = spans.attempts(recorded)
    assert "hello there friend" in attempt.attributes["gen_ai.output.messages"]  # type: ignore[index,operator]
    assert "say hello" in streamed.attributes["gen_ai.input.messages"]  # type: ignore[index,operator]
    assert "hello there friend" in streamed.attributes["gen_ai.output.messages"]  # type: ignore[index,operator]


async def test_a_library_callers_span_is_the_parent(spans: Spans) -> None:
    tracer = spans.provider.get_tracer("the-app")
    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        with tracer.start_as_current_span("handle order") as outer:
            response = await gateway.embed(model="good/g-1", input="one two")
    assert response.usage.input_tokens == 2
    (request,) = [s for s in spans.requests() if s.name == "embeddings good/g-1"]
    assert request.parent is not None
    assert request.parent.span_id == outer.get_span_context().span_id
    assert request.context.trace_id == outer.get_span_context().trace_id
    (attempt,) = spans.attempts(request)
    assert attempt.attributes["gen_ai.operation.name"] == "embeddings"  # type: ignore[index]


async def test_the_record_and_its_log_fields_carry_the_trace_id(spans: Spans) -> None:
    from switchyard.records.record import RequestRecord
    from switchyard.records.sinks import fields

    records: list[RequestRecord] = []

    class Keep:
        def emit(self, record: RequestRecord) -> None:
            records.append(record)

    async with Gateway.from_config(
        config(), tracer_provider=spans.provider, sinks=[Keep()]
    ) as gateway:
        await gateway.chat(model="smart", messages=HELLO)
    (record,) = records
    assert record.trace_id == f"{spans.request().context.trace_id:032x}"
    assert fields(record)["trace_id"] == record.trace_id


async def test_a_request_refused_before_it_began_still_has_its_span(spans: Spans) -> None:
    from switchyard.errors import InvalidRequest

    async with Gateway.from_config(config(), tracer_provider=spans.provider) as gateway:
        with pytest.raises(InvalidRequest):
            await gateway.chat(model="smart", messages="not a list")
    request = spans.request()
    assert request.name == "chat smart"
    assert request.attributes["error.type"] == "invalid_request"  # type: ignore[index]
    assert request.status.status_code == StatusCode.ERROR
    assert spans.attempts() == []
