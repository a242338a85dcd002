"""A bug anywhere behind a route reaches the client as the door's error JSON, never as a
plain-text 500, and is logged with the request id (issue 7, the backstop)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from switchyard import Gateway
from switchyard.providers.fake import FakeProvider, FakeSettings
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)
from tests.e2e.served import ServedGateway, serve

SECRET_DETAIL = "kaboom: internal detail at 0xdeadbeef"
HELLO: Any = [{"role": "user", "content": "hello"}]


class BuggyProvider(FakeProvider):
    """A provider with a bug: every call raises something outside the error taxonomy (a stream
    after its first chunk, when ``late``)."""

    def __init__(self, name: str, *, late: bool = False) -> None:
        super().__init__(name, FakeSettings(reply="partial"))
        self.late = late

    async def chat(self, request: ChatRequest) -> ChatResponse:
        raise RuntimeError(SECRET_DETAIL)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        if self.late:
            yield ChatChunk(id="c1", created=0, model=request.model, role="assistant", text="hi")
        raise RuntimeError(SECRET_DETAIL)

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        raise RuntimeError(SECRET_DETAIL)


CONFIG: dict[str, Any] = {
    "providers": {"buggy": {"type": "fake"}, "late": {"type": "fake"}},
    "models": [
        {"name": "buggy", "deployments": [{"provider": "buggy", "model": "m"}]},
        {"name": "late", "deployments": [{"provider": "late", "model": "m"}]},
    ],
    "router": {"retries": 0},
}


@pytest.fixture(scope="module")
def served() -> Iterator[ServedGateway]:
    providers = {"buggy": BuggyProvider("buggy"), "late": BuggyProvider("late", late=True)}
    gateway = Gateway.from_config(CONFIG, providers=providers)
    with serve(gateway) as running:
        yield running


def _assert_internal_error(body: dict[str, Any]) -> None:
    error = body["error"]
    assert error["type"] == "api_error"
    assert error["code"] == "internal_error"
    assert SECRET_DETAIL not in error["message"] and "RuntimeError" not in error["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/chat/completions", {"model": "buggy", "messages": HELLO}),
        ("/chat/completions", {"model": "buggy", "messages": HELLO, "stream": True}),
        ("/embeddings", {"model": "buggy", "input": ["hello"]}),
    ],
    ids=["chat", "stream-before-first-chunk", "embeddings"],
)
def test_a_stray_exception_is_a_json_500_with_the_request_id_and_a_log(
    served: ServedGateway, caplog: pytest.LogCaptureFixture, path: str, body: dict[str, Any]
) -> None:
    caplog.set_level(logging.ERROR, logger="switchyard.server")
    with httpx.Client(base_url=served.base_url) as client:
        reply = client.post(path, json=body, headers={"x-request-id": "req-backstop-1"})
        assert reply.status_code == 500
        assert reply.headers["content-type"] == "application/json"
        assert reply.headers["x-request-id"] == "req-backstop-1"
        _assert_internal_error(reply.json())
        assert "req-backstop-1" in reply.json()["error"]["message"]
        # the keep-alive connection survives: the next request on it is answered
        assert client.get("/models").status_code == 200
    [record] = [r for r in caplog.records if r.name == "switchyard.server"]
    assert record.levelno == logging.ERROR
    assert "req-backstop-1" in record.getMessage()
    assert record.exc_info is not None and SECRET_DETAIL in str(record.exc_info[1])


def test_a_stray_exception_mid_stream_ends_it_with_an_error_event(
    served: ServedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="switchyard.server")
    body = {"model": "late", "messages": HELLO, "stream": True}
    with httpx.stream(
        "POST", f"{served.base_url}/chat/completions", json=body, headers={"x-request-id": "r-2"}
    ) as reply:
        assert reply.status_code == 200
        events = [line[6:] for line in reply.iter_lines() if line.startswith("data: ")]
    assert '"hi"' in events[0]
    assert events[-1] != "[DONE]"
    _assert_internal_error(httpx.Response(200, content=events[-1]).json())
    [record] = [r for r in caplog.records if r.name == "switchyard.server"]
    assert "r-2" in record.getMessage() and record.exc_info is not None
