"""Clients that leave early, send model names built to break headers, or trickle their body,
against the served gateway (issue 7, "Client behaviour" and "Bounded memory")."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.served import ServedGateway, serve
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply

HELLO: Any = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def served() -> Iterator[ServedGateway]:
    config = {
        "server": {"body_timeout_seconds": 1},
        "providers": {"a": {"type": "fake", "reply": "from a"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
    }
    with serve(config) as running:
        yield running


def _raw_request(port: int, head: bytes, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head + body)
    return sock


def _chat_head(length: int) -> bytes:
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


# -- a client that leaves a stream before its first chunk ---------------------------------------


def test_leaving_a_stream_before_its_first_chunk_cancels_the_upstream_call_at_once(
    openai_upstream: OpenAIUpstream,
) -> None:
    first = {"type": "openai", "base_url": openai_upstream.base_url, "api_key": "k"}
    config = {
        "providers": {"first": first, "second": {**first}},
        "models": [
            {
                "name": "pair",
                "deployments": [
                    # without the fix, the attempt runs to this timeout, then fails over
                    {"provider": "first", "model": "slow", "timeout": {"first_token": 2}},
                    {"provider": "second", "model": "billed"},
                ],
            }
        ],
        "router": {"retries": 0},
    }
    openai_upstream.script(Reply.stream(["{}"], delay=5))
    body = b'{"model": "pair", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
    with serve(config) as served:
        client = _raw_request(served.port, _chat_head(len(body)), body)
        deadline = time.monotonic() + 2
        while not openai_upstream.requests:
            assert time.monotonic() < deadline, "the upstream was never called"
            time.sleep(0.01)
        time.sleep(0.3)
        client.close()
        gone = time.monotonic()
        while not openai_upstream.requests[0].disconnected:
            assert time.monotonic() - gone < 1.0, "the upstream call outlived its client"
            time.sleep(0.01)
        time.sleep(2.5 - (time.monotonic() - gone))  # past the first deployment's timeout
    assert [r.json["model"] for r in openai_upstream.requests] == ["slow"]


# -- model names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    ["", "m" * 257, "a/m\r\nx-injected: yes", "a/m\nx", "a/m\x00", "a/m\tx", "a/m\u2028x"],
    ids=["empty", "257-chars", "crlf", "lf", "nul", "tab", "line-separator"],
)
@pytest.mark.parametrize("path", ["/chat/completions", "/embeddings"])
def test_a_bad_model_name_is_a_400_naming_model(
    served: ServedGateway, model: str, path: str
) -> None:
    body: dict[str, Any] = {"model": model}
    body.update({"messages": HELLO} if path == "/chat/completions" else {"input": ["x"]})
    reply = httpx.post(f"{served.base_url}{path}", json=body)
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "model"
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_a_model_name_of_256_printable_characters_is_accepted(served: ServedGateway) -> None:
    model = "a/" + "m" * 254
    reply = httpx.post(
        f"{served.base_url}/chat/completions", json={"model": model, "messages": HELLO}
    )
    assert reply.status_code == 200
    assert reply.headers["x-switchyard-model"] == "m" * 254


@pytest.mark.parametrize("stream", [False, True])
def test_a_non_latin1_model_name_is_percent_encoded_in_the_header(
    served: ServedGateway, stream: bool
) -> None:
    body = {"model": "a/модель-50%", "messages": HELLO, "stream": stream}
    reply = httpx.post(f"{served.base_url}/chat/completions", json=body)
    assert reply.status_code == 200
    encoded = "%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C-50%25"
    assert reply.headers["x-switchyard-model"] == encoded
    assert reply.headers["x-switchyard-provider"] == "a"


# -- a body that trickles in -------------------------------------------------------------------


def test_a_body_trickled_slower_than_the_body_timeout_gets_a_408(served: ServedGateway) -> None:
    sock = _raw_request(served.port, _chat_head(100), b"{")  # the next byte would come in 3 s
    sock.settimeout(2.8)
    started = time.monotonic()
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    finally:
        sock.close()
    assert time.monotonic() - started < 2.5
    head, _, payload = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"connection: close" in head.lower()
    error = httpx.Response(408, content=payload).json()["error"]
    assert error["code"] == "request_timeout" and error["type"] == "invalid_request_error"


def test_a_client_leaving_mid_body_is_not_an_error(
    served: ServedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    _raw_request(served.port, _chat_head(100), b'{"model": ').close()
    time.sleep(0.3)
    assert httpx.get(f"{served.url}/healthz").status_code == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
