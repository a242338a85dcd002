"""Upstreams that break HTTP itself, through the served gateway: every fault is a provider-side
failure that the breaker counts and the next deployment answers, and the client's connection
to the gateway stays usable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.served import ServedGateway, serve
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.raw_upstream import RawUpstream, http_reply
from tests.hardening.served_state import deployment

HELLO: Any = [{"role": "user", "content": "hello"}]
COMPLETION = (
    b'{"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "choices": '
    b'[{"index": 0, "message": {"role": "assistant", "content": "from bad"}, '
    b'"finish_reason": "stop"}]}'
)
OK_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"

FAULTS: dict[str, bytes] = {
    "not_http": b"\x00\x01\x02 this is not HTTP at all\r\n\r\n",
    "bad_status_line": b"HTTP/1.1 two-hundred OK\r\ncontent-length: 2\r\n\r\n{}",
    "bad_header": OK_HEAD + b"this line has no colon\r\ncontent-length: 2\r\n\r\n{}",
    "bad_content_length": OK_HEAD + b"content-length: many\r\n\r\n" + COMPLETION,
    "content_length_longer": OK_HEAD + b"content-length: 100000\r\n\r\n" + COMPLETION,
    "content_length_shorter": OK_HEAD + b"content-length: 20\r\n\r\n" + COMPLETION,
    "closed_at_once": b"",
}


@pytest.fixture(scope="module")
def good() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def served(good: OpenAIUpstream) -> Iterator[ServedGateway]:
    with ExitStack() as stack:
        bad = {name: stack.enter_context(RawUpstream(data)) for name, data in FAULTS.items()}
        providers: dict[str, Any] = {
            name: {"type": "openai", "base_url": upstream.base_url, "api_key": "k"}
            for name, upstream in bad.items()
        }
        providers["good"] = {"type": "openai", "base_url": good.base_url, "api_key": "k"}
        config = {
            "providers": providers,
            "models": [
                {
                    "name": name,
                    "deployments": [
                        {"provider": name, "model": "m"},
                        {"provider": "good", "model": "m"},
                    ],
                }
                for name in FAULTS
            ],
            "router": {"retries": 0, "circuit_breaker": {"failure_threshold": 1000}},
        }
        yield stack.enter_context(serve(config))


def _client_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broken_upstream_fails_over_and_the_client_connection_lives(
    served: ServedGateway, fault: str
) -> None:
    with httpx.Client(base_url=served.base_url, timeout=10) as client:
        ports = set()
        for _ in range(10):
            reply = client.post("/chat/completions", json={"model": fault, "messages": HELLO})
            assert reply.status_code == 200, reply.text
            assert reply.headers["x-switchyard-provider"] == "good"
            assert reply.headers["x-switchyard-attempts"] == "2"
            ports.add(_client_port(reply))
    assert len(ports) == 1  # every request went over the same keep-alive connection
    seen = deployment(served, f"{fault}/m")
    assert seen["breaker"]["consecutive_failures"] >= 10
    assert seen["requests"] >= 10 and seen["error_rate"] == 1.0
    assert seen["last_error"] and "provider" in seen["last_error"]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broken_upstream_fails_over_before_a_stream_starts(
    served: ServedGateway, fault: str
) -> None:
    stream = served.client().chat.completions.create(model=fault, messages=HELLO, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "hello"


def test_when_every_deployment_breaks_http_the_client_gets_a_typed_error() -> None:
    with RawUpstream(FAULTS["bad_status_line"]) as bad, serve(_only(bad.base_url)) as served:
        with pytest.raises(openai.APIStatusError) as caught:
            served.client().chat.completions.create(model="only", messages=HELLO)
    assert caught.value.status_code == 502
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "upstream_protocol_error"
    assert "provider 'bad' answered with malformed HTTP" in error["message"]
    assert "127.0.0.1" not in error["message"] and "two-hundred" not in error["message"]


def test_a_stream_whose_framing_breaks_midway_ends_with_an_error_event() -> None:
    event = b'data: {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", '
    event += b'"choices": [{"index": 0, "delta": {"content": "half"}, "finish_reason": null}]}\n\n'
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    head += b"transfer-encoding: chunked\r\n\r\n"
    first = head + f"{len(event):x}\r\n".encode() + event + b"\r\n"
    pieces = [first, b"zz-not-a-chunk-size\r\n"]
    with (
        RawUpstream(lambda: pieces, gap=0.2, hold=1.0) as bad,
        serve(_only(bad.base_url)) as served,
    ):
        reply = httpx.post(
            f"{served.base_url}/chat/completions",
            json={"model": "only", "messages": HELLO, "stream": True},
            timeout=10,
        )
    assert reply.status_code == 200
    assert '"half"' in reply.text
    assert '"error"' in reply.text and "provider 'bad'" in reply.text
    assert "[DONE]" not in reply.text


def test_a_redirect_is_an_upstream_error_and_the_key_never_follows_it() -> None:
    """aiohttp would follow a 307 and carry the provider's credential headers to the new
    host; the gateway does not follow it, and the next deployment answers."""
    with OpenAIUpstream() as elsewhere, OpenAIUpstream() as good:
        target = f"{elsewhere.base_url}/chat/completions"
        with RawUpstream(http_reply(307, b"", {"location": target})) as redirecting:
            config = {
                "providers": {
                    "moved": {
                        "type": "openai",
                        "base_url": redirecting.base_url,
                        "api_key": "sk-moved-0123456789abcdef",
                        "headers": {"x-api-key": "custom-credential-value"},
                    },
                    "good": {"type": "openai", "base_url": good.base_url, "api_key": "k"},
                },
                "models": [
                    {
                        "name": "smart",
                        "deployments": [
                            {"provider": "moved", "model": "m"},
                            {"provider": "good", "model": "m"},
                        ],
                    }
                ],
                "router": {"retries": 0},
            }
            with serve(config) as served:
                client = served.client()
                answer = client.chat.completions.with_raw_response.create(
                    model="smart", messages=HELLO
                )
                streamed = client.chat.completions.create(
                    model="smart", messages=HELLO, stream=True
                )
                assert [c for c in streamed if c.choices]
                seen = deployment(served, "moved/m")
        assert elsewhere.requests == []  # nothing, so no key either
    assert answer.headers["x-switchyard-provider"] == "good"
    assert answer.headers["x-switchyard-attempts"] == "2"
    assert seen["breaker"]["consecutive_failures"] == 2
    assert "307" in seen["last_error"] and "redirect" in seen["last_error"]


def test_a_redirect_alone_is_a_502_not_the_callers_error() -> None:
    with RawUpstream(http_reply(302, b"moved", {"location": "http://127.0.0.1:9/"})) as moved:
        with serve(_only(moved.base_url)) as served:
            with pytest.raises(openai.APIStatusError) as caught:
                served.client().chat.completions.create(model="only", messages=HELLO)
    assert caught.value.status_code == 502


def _only(base_url: str) -> dict[str, Any]:
    return {
        "providers": {"bad": {"type": "openai", "base_url": base_url, "api_key": "k"}},
        "models": [{"name": "only", "deployments": [{"provider": "bad", "model": "m"}]}],
        "router": {"retries": 0},
    }
