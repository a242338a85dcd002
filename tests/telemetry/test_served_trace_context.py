"""W3C trace context through the served gateway: the caller's ``traceparent`` is the request
span's parent, and every attempt's upstream request carries a ``traceparent`` in the caller's
trace whose parent is that attempt's span (real sockets: uvicorn, aiohttp, a fake OpenAI)."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.trace import SpanKind
from tests.e2e.served import serve
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.telemetry.conftest import Spans

from switchyard import Gateway
from switchyard.records.sinks import LogSink
from switchyard.server.logs import configure_logging
from switchyard.telemetry.genai import parse_traceparent

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
CALLER = {"traceparent": f"00-{TRACE}-{PARENT}-01", "tracestate": "congo=t61rcWkgMzE"}
HELLO: Any = [{"role": "user", "content": "hi"}]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def upstream() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream() as fake:
        yield fake


def config(upstream: OpenAIUpstream) -> dict[str, Any]:
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    return {
        "providers": {
            "dead": {"type": "openai", "base_url": dead, "api_key": "k"},
            "live": {"type": "openai", "base_url": upstream.base_url, "api_key": "k"},
        },
        "models": [
            {"name": "direct", "deployments": [{"provider": "live", "model": "gpt-4o-mini"}]},
            {
                "name": "pair",
                "deployments": [
                    {"provider": "dead", "model": "gpt-4o-mini"},
                    {"provider": "live", "model": "gpt-4o-mini"},
                ],
            },
        ],
        "router": {"retries": 0},
    }


def sent_parent(upstream: OpenAIUpstream) -> tuple[int, int]:
    parsed = parse_traceparent(upstream.last_request.headers.get("traceparent"))
    assert parsed is not None
    return parsed.trace_id, parsed.span_id


def test_the_callers_trace_continues_to_the_upstream(
    spans: Spans, upstream: OpenAIUpstream
) -> None:
    gateway = Gateway.from_config(config(upstream), tracer_provider=spans.provider)
    with serve(gateway) as served:
        reply = httpx.post(
            f"{served.base_url}/chat/completions",
            json={"model": "pair", "messages": HELLO},
            headers=CALLER,
        )
        assert reply.status_code == 200, reply.text
    request = spans.request()
    assert request.kind == SpanKind.SERVER  # it came in through a door
    assert f"{request.context.trace_id:032x}" == TRACE
    assert request.parent is not None and request.parent.is_remote
    assert f"{request.parent.span_id:016x}" == PARENT
    dead, live = spans.attempts()
    assert dead.attributes["error.type"] == "provider_unavailable"  # type: ignore[index]
    assert live.attributes["switchyard.attempt.outcome"] == "ok"  # type: ignore[index]
    assert live.attributes["gen_ai.provider.name"] == "openai"  # type: ignore[index]
    assert live.attributes["gen_ai.response.model"]  # type: ignore[index]
    # the upstream saw the caller's trace, its parent the attempt that reached it
    trace_id, parent_id = sent_parent(upstream)
    assert f"{trace_id:032x}" == TRACE
    assert parent_id == live.context.span_id
    assert upstream.last_request.headers["tracestate"] == CALLER["tracestate"]
    assert reply.headers["x-request-id"] == request.attributes["switchyard.request_id"]  # type: ignore[index]


def test_a_stream_through_the_openai_sdk_is_traced(spans: Spans, upstream: OpenAIUpstream) -> None:
    gateway = Gateway.from_config(config(upstream), tracer_provider=spans.provider)
    with serve(gateway) as served:
        stream = served.client().chat.completions.create(
            model="direct", messages=HELLO, stream=True, extra_headers=CALLER
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text
    request = spans.request()
    assert f"{request.context.trace_id:032x}" == TRACE
    assert request.attributes["switchyard.time_to_first_token_ms"] >= 0  # type: ignore[index,operator]
    (attempt,) = spans.attempts()
    assert sent_parent(upstream) == (int(TRACE, 16), attempt.context.span_id)


def test_without_a_valid_traceparent_a_new_trace_starts(
    spans: Spans, upstream: OpenAIUpstream
) -> None:
    gateway = Gateway.from_config(config(upstream), tracer_provider=spans.provider)
    with serve(gateway) as served:
        for headers in ({}, {"traceparent": "00-not-a-trace-01"}):
            reply = httpx.post(
                f"{served.base_url}/chat/completions",
                json={"model": "direct", "messages": HELLO},
                headers=headers,
            )
            assert reply.status_code == 200, reply.text
            request = spans.requests()[-1]
            assert request.parent is None and request.kind == SpanKind.SERVER
            (attempt,) = spans.attempts(request)
            assert sent_parent(upstream) == (request.context.trace_id, attempt.context.span_id)


def test_json_logs_carry_the_trace_id(spans: Spans, upstream: OpenAIUpstream) -> None:
    out = io.StringIO()
    root = logging.getLogger("switchyard")
    saved = (root.handlers[:], root.level, root.propagate)
    handler = configure_logging("info", out, "json")
    try:
        gateway = Gateway.from_config(
            config(upstream),
            tracer_provider=spans.provider,
            sinks=[LogSink(lines=handler, structured=True)],
        )
        with serve(gateway) as served:
            reply = httpx.post(
                f"{served.base_url}/chat/completions",
                json={"model": "pair", "messages": HELLO},
                headers=CALLER,
            )
            assert reply.status_code == 200
    finally:
        handler.close()
        root.handlers[:], root.level, root.propagate = saved
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    request_line = next(line for line in lines if line["logger"] == "switchyard.requests")
    assert request_line["trace_id"] == TRACE
    # the dead upstream's warning, written on the request's behalf, names its trace too
    warning = next(line for line in lines if line["logger"] == "switchyard.providers")
    assert warning["trace_id"] == TRACE
    assert warning["request_id"] == request_line["request_id"]


def test_off_nothing_is_propagated(upstream: OpenAIUpstream, monkeypatch: Any) -> None:
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    gateway = Gateway.from_config(config(upstream))
    assert not gateway.tracing
    with serve(gateway) as served:
        reply = httpx.post(
            f"{served.base_url}/chat/completions",
            json={"model": "direct", "messages": HELLO},
            headers=CALLER,
        )
        assert reply.status_code == 200
    assert "traceparent" not in upstream.last_request.headers
    assert "tracestate" not in upstream.last_request.headers
