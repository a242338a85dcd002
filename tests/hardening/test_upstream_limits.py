"""What the gateway bounds per provider, through the served gateway: the size of a reply
(``max_reply_bytes``), the connections open at once (``max_connections``) and, for a call that
is not streamed, the wait for response headers (``timeout.first_token``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from switchyard.providers.base import MAX_CONNECTIONS, MAX_REPLY_BYTES
from switchyard.providers.http import HttpClient
from switchyard.providers.openai.settings import OpenAISettings
from tests.e2e.served import serve
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.raw_upstream import RawAnswer, RawUpstream, http_reply
from tests.hardening.served_state import deployment

HELLO: Any = [{"role": "user", "content": "hello"}]
MIB = 1024 * 1024
HUGE = 64 * MIB
COMPLETION = orjson.dumps(
    {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "from the slow one"},
                "finish_reason": "stop",
            }
        ],
    }
)


def huge_completion(*, declared: bool) -> RawAnswer:
    """A valid 64 MiB chat completion, produced a MiB at a time (never held whole); with its
    ``content-length`` declared, or chunked."""
    opening = b'{"id": "c1", "object": "chat.completion", "created": 1, "model": "m", '
    opening += b'"choices": [{"index": 0, "message": {"role": "assistant", "content": "'
    closing = b'"}, "finish_reason": "stop"}]}'
    size = len(opening) + HUGE + len(closing)
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    head += f"content-length: {size}\r\n\r\n".encode() if declared else b"connection: close\r\n\r\n"

    def pieces() -> Iterator[bytes]:
        yield head + opening
        for _ in range(HUGE // MIB):
            yield b"x" * MIB
        yield closing

    return pieces


def endless_sse_line() -> Iterator[bytes]:
    """A streamed reply whose first event is one 64 MiB line."""
    yield b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    yield b'data: {"id": "c1", "object": "chat.completion.chunk", "choices": [{"delta": '
    yield b'{"content": "'
    for _ in range(HUGE // MIB):
        yield b"x" * MIB


FIRST_CHUNK = b'data: {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", '
FIRST_CHUNK += (
    b'"choices": [{"index": 0, "delta": {"content": "half"}, "finish_reason": null}]}\n\n'
)


def endless_sse_event(*, after_a_chunk: bool) -> RawAnswer:
    """A streamed reply whose (first or second) event is 64 MiB of short ``data`` lines that
    never end with a blank line: no line is long, the event is."""

    def pieces() -> Iterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
        if after_a_chunk:
            yield FIRST_CHUNK
        lines = b"data: " + b"x" * 1000 + b"\n"
        for _ in range(HUGE // (1024 * len(lines))):
            yield lines * 1024

    return pieces


def _alias_with_fallback(
    first: dict[str, Any], good_url: str, *, timeout: Any = None
) -> dict[str, Any]:
    deployment_one: dict[str, Any] = {"provider": "first", "model": "m"}
    if timeout is not None:
        deployment_one["timeout"] = timeout
    return {
        "providers": {
            "first": {"type": "openai", "api_key": "k", **first},
            "good": {"type": "openai", "base_url": good_url, "api_key": "k"},
        },
        "models": [
            {
                "name": "smart",
                "deployments": [deployment_one, {"provider": "good", "model": "m"}],
            }
        ],
        "router": {"retries": 0, "circuit_breaker": {"failure_threshold": 1000}},
    }


@pytest.fixture(scope="module")
def good() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream() as upstream:
        yield upstream


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_reply_over_max_reply_bytes_fails_over_unread(
    good: OpenAIUpstream, declared: bool
) -> None:
    with RawUpstream(huge_completion(declared=declared)) as huge:
        first = {"base_url": huge.base_url, "max_reply_bytes": MIB}
        with serve(_alias_with_fallback(first, good.base_url)) as served:
            reply = httpx.post(
                f"{served.base_url}/chat/completions",
                json={"model": "smart", "messages": HELLO},
                timeout=30,
            )
            seen = deployment(served, "first/m")
        assert reply.status_code == 200
        assert reply.headers["x-switchyard-provider"] == "good"
        assert "max_reply_bytes" in seen["last_error"]
        assert seen["breaker"]["consecutive_failures"] == 1
        assert huge.sent < 16 * MIB  # the gateway stopped reading; the rest was never sent


def test_a_stream_line_over_max_reply_bytes_fails_over(good: OpenAIUpstream) -> None:
    with RawUpstream(endless_sse_line) as endless:
        first = {"base_url": endless.base_url, "max_reply_bytes": MIB}
        with serve(_alias_with_fallback(first, good.base_url)) as served:
            stream = served.client().chat.completions.create(
                model="smart", messages=HELLO, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            seen = deployment(served, "first/m")
        assert text == "hello"
        assert "max_reply_bytes" in seen["last_error"]
        assert endless.sent < 16 * MIB


def test_a_stream_event_of_many_short_lines_over_max_reply_bytes_fails_over(
    good: OpenAIUpstream,
) -> None:
    with RawUpstream(endless_sse_event(after_a_chunk=False)) as endless:
        first = {"base_url": endless.base_url, "max_reply_bytes": MIB}
        with serve(_alias_with_fallback(first, good.base_url)) as served:
            stream = served.client().chat.completions.create(
                model="smart", messages=HELLO, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            seen = deployment(served, "first/m")
        assert text == "hello"
        assert f"SSE event with more than {MIB} bytes of data" in seen["last_error"]
        assert seen["breaker"]["consecutive_failures"] == 1
        assert endless.sent < 16 * MIB


def test_a_stream_event_over_max_reply_bytes_after_a_chunk_ends_with_an_error_event(
    good: OpenAIUpstream,
) -> None:
    with RawUpstream(endless_sse_event(after_a_chunk=True)) as endless:
        first = {"base_url": endless.base_url, "max_reply_bytes": MIB}
        with serve(_alias_with_fallback(first, good.base_url)) as served:
            reply = httpx.post(
                f"{served.base_url}/chat/completions",
                json={"model": "smart", "messages": HELLO, "stream": True},
                timeout=30,
            )
    assert reply.status_code == 200 and reply.headers["x-switchyard-provider"] == "first"
    assert '"half"' in reply.text
    assert '"upstream_protocol_error"' in reply.text and "SSE event" in reply.text
    assert "[DONE]" not in reply.text
    assert endless.sent < 16 * MIB


def test_max_connections_caps_the_pool_and_more_requests_wait(good: OpenAIUpstream) -> None:
    with RawUpstream(http_reply(200, COMPLETION), delay=0.3) as slow:
        first = {"base_url": slow.base_url, "max_connections": 2}
        config = _alias_with_fallback(first, good.base_url)
        with serve(config) as served, ThreadPoolExecutor(4) as pool:

            def ask(_: int) -> httpx.Response:
                return httpx.post(
                    f"{served.base_url}/chat/completions",
                    json={"model": "smart", "messages": HELLO},
                    timeout=30,
                )

            replies = list(pool.map(ask, range(4)))
    assert [r.status_code for r in replies] == [200] * 4
    assert {r.headers["x-switchyard-provider"] for r in replies} == {"first"}
    assert slow.connections == 4 and slow.max_active == 2


def test_a_request_that_waits_past_timeout_connect_for_the_pool_fails_over(
    good: OpenAIUpstream,
) -> None:
    with RawUpstream(http_reply(200, COMPLETION), delay=1.0) as slow:
        first = {"base_url": slow.base_url, "max_connections": 1, "timeout": {"connect": 0.3}}
        with (
            serve(_alias_with_fallback(first, good.base_url)) as served,
            ThreadPoolExecutor(2) as pool,
        ):

            def ask(_: int) -> httpx.Response:
                return httpx.post(
                    f"{served.base_url}/chat/completions",
                    json={"model": "smart", "messages": HELLO},
                    timeout=30,
                )

            replies = list(pool.map(ask, range(2)))
            seen = deployment(served, "first/m")
    assert sorted(r.headers["x-switchyard-provider"] for r in replies) == ["first", "good"]
    assert "timeout.connect" in seen["last_error"]


async def test_the_connector_limit_comes_from_the_settings() -> None:
    assert OpenAISettings().max_connections == MAX_CONNECTIONS == 100
    assert OpenAISettings().max_reply_bytes == MAX_REPLY_BYTES == 32 * MIB
    client = HttpClient("p", OpenAISettings(max_connections=7))
    try:
        session = client._get_session()
        assert session.connector is not None and session.connector.limit == 7
    finally:
        await client.aclose()


def test_first_token_bounds_the_wait_for_headers_of_a_plain_call(good: OpenAIUpstream) -> None:
    with RawUpstream(http_reply(200, COMPLETION), delay=3) as silent:
        config = _alias_with_fallback(
            {"base_url": silent.base_url},
            good.base_url,
            timeout={"first_token": 0.3, "total": 20},
        )
        with serve(config) as served:
            started = time.monotonic()
            reply = httpx.post(
                f"{served.base_url}/chat/completions",
                json={"model": "smart", "messages": HELLO},
                timeout=30,
            )
            elapsed = time.monotonic() - started
            seen = deployment(served, "first/m")
    assert reply.status_code == 200
    assert reply.headers["x-switchyard-provider"] == "good"
    assert elapsed < 2.5
    assert "no response headers within 0.3s" in seen["last_error"]
    assert seen["breaker"]["consecutive_failures"] == 1


def test_first_token_does_not_cut_a_body_that_is_on_its_way(good: OpenAIUpstream) -> None:
    """Headers in time, then a slow body: only ``total`` bounds the rest of the reply."""
    reply_bytes = http_reply(200, COMPLETION)
    split = reply_bytes.index(b"\r\n\r\n") + 4
    with RawUpstream(lambda: [reply_bytes[:split], reply_bytes[split:]], gap=0.6) as trickle:
        config = _alias_with_fallback(
            {"base_url": trickle.base_url},
            good.base_url,
            timeout={"first_token": 0.3, "total": 20},
        )
        with serve(config) as served:
            answer = served.client().chat.completions.with_raw_response.create(
                model="smart", messages=HELLO
            )
    assert answer.headers["x-switchyard-provider"] == "first"
    assert answer.parse().choices[0].message.content == "from the slow one"


def test_first_token_still_bounds_a_stream_to_its_first_chunk(good: OpenAIUpstream) -> None:
    with RawUpstream(http_reply(200, COMPLETION), delay=3) as silent:
        config = _alias_with_fallback(
            {"base_url": silent.base_url},
            good.base_url,
            timeout={"first_token": 0.3, "total": 20},
        )
        with serve(config) as served:
            started = time.monotonic()
            stream = served.client().chat.completions.create(
                model="smart", messages=HELLO, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "hello" and time.monotonic() - started < 2.5
