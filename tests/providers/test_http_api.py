"""The HTTP helper every adapter sends with, against a scripted fake upstream on 127.0.0.1: the
stream loop (read until the translator is done, or finish when the bytes end), the boundary
(error status before any chunk, framing errors naming the provider, a whole JSON reply), and an
injected HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from switchyard.errors import ProviderUnavailable, RateLimited, UpstreamProtocolError
from switchyard.providers.fake import FakeSettings
from switchyard.providers.http import HttpClient
from switchyard.providers.http_api import HttpApi
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.providers.registry import build_provider
from switchyard.streaming.framing import NDJSON, SSE
from switchyard.streaming.sse import SseEvent
from switchyard.types import ChatChunk, ChatRequest, Message
from tests.fakes.fixtures import fake_upstream_fixtures
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import FakeUpstream, Reply

_server, upstream = fake_upstream_fixtures(FakeUpstream)


class Echo:
    """A stream translator: one chunk per event, its data as text; ``end`` is the last event."""

    def __init__(self, *, cut: bool = False) -> None:
        self.done = False
        self.finished = False
        self._cut = cut

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        if event.data == "end":
            self.done = True
            return []
        return [ChatChunk(id="s", created=1, model="m", text=event.data)]

    def finish(self) -> list[ChatChunk]:
        self.finished = True
        if self._cut:
            raise ProviderUnavailable("cut", provider="p")
        return [ChatChunk(id="s", created=1, model="m", finish_reason="stop")]


def refuse(status: int, headers: Mapping[str, str], body: bytes) -> RateLimited:
    return RateLimited(f"status {status}: {body.decode()}", provider="p")


def sse_api(upstream: FakeUpstream) -> HttpApi[SseEvent]:
    return HttpApi(
        "p",
        base_url=upstream.base_url,
        headers={"content-type": "application/json"},
        map_error=refuse,
        framing=SSE,
    )


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


def texts(chunks: list[ChatChunk]) -> list[str | None]:
    return [chunk.text or chunk.finish_reason for chunk in chunks]


async def test_a_stream_is_read_until_its_translator_is_done(upstream: FakeUpstream) -> None:
    upstream.script(Reply.stream(["a", "b", "end", "after the end"], done=False))
    api, echo = sse_api(upstream), Echo()
    chunks = await collect(api.stream(upstream.base_url + "/s", {"q": 1}, echo))
    assert texts(chunks) == ["a", "b"] and not echo.finished
    sent = upstream.last_request
    assert sent.json == {"q": 1} and sent.headers["accept"] == "text/event-stream"
    await api.aclose()


async def test_bytes_that_end_first_are_finished_by_the_translator(upstream: FakeUpstream) -> None:
    upstream.script(Reply.stream(["a", "b"], done=False), Reply.stream(["a"], done=False))
    api = sse_api(upstream)
    chunks = await collect(api.stream(upstream.base_url + "/s", {}, Echo()))
    assert texts(chunks) == ["a", "b", "stop"]
    got: list[ChatChunk] = []
    with pytest.raises(ProviderUnavailable, match="cut"):
        async for chunk in api.stream(upstream.base_url + "/s", {}, Echo(cut=True)):
            got.append(chunk)
    assert texts(got) == ["a"]
    await api.aclose()


async def test_an_error_status_raises_before_any_chunk(upstream: FakeUpstream) -> None:
    upstream.script(Reply.raw_bytes(b"slow down", 429, content_type="text/plain"))
    api = sse_api(upstream)
    try:  # a body that is not JSON is logged, not passed on
        with pytest.raises(RateLimited, match="answered 429 with a non-JSON body"):
            await anext(api.stream(upstream.base_url + "/s", {}, Echo()))
    finally:
        await api.aclose()


async def test_framing_errors_name_the_provider(upstream: FakeUpstream) -> None:
    upstream.script(
        Reply.raw_bytes(b"data: \xff\xfe\n\n", content_type="text/event-stream"),
        Reply.raw_bytes(b'{"ok": 1}\nnot json\n', content_type="application/x-ndjson"),
    )
    api = sse_api(upstream)
    with pytest.raises(UpstreamProtocolError, match="UTF-8") as caught:
        await collect(api.stream(upstream.base_url + "/s", {}, Echo()))
    assert caught.value.provider == "p"
    lines: HttpApi[Any] = HttpApi(
        "q", base_url=upstream.base_url, headers={}, map_error=refuse, framing=NDJSON
    )
    with pytest.raises(UpstreamProtocolError, match="NDJSON") as caught:
        await collect(lines.stream(upstream.base_url + "/s", {}, Echo()))
    assert caught.value.provider == "q"
    assert upstream.last_request.headers["accept"] == "application/x-ndjson"
    await api.aclose()
    await lines.aclose()


async def test_a_whole_json_reply_is_read_by_whole_when_given(upstream: FakeUpstream) -> None:
    upstream.script(Reply.json({"answer": 42}), Reply.json({"answer": 42}))
    api = sse_api(upstream)
    whole = [ChatChunk(id="w", created=1, model="m", text="whole")]
    chunks = await collect(api.stream(upstream.base_url + "/s", {}, Echo(), whole=lambda _: whole))
    assert chunks == whole
    # without ``whole`` the body is framed as any other: no events, so the translator finishes
    assert texts(await collect(api.stream(upstream.base_url + "/s", {}, Echo()))) == ["stop"]
    await api.aclose()


async def test_plain_requests_check_the_status_and_read_json(upstream: FakeUpstream) -> None:
    upstream.script(
        Reply.json({"models": []}),
        Reply.raw_bytes(b"<html>", content_type="text/html"),
        Reply.raw_bytes(b"busy", 429, content_type="text/plain"),
    )
    api = sse_api(upstream)
    assert await api.request_json("GET", upstream.base_url + "/m") == {"models": []}
    with pytest.raises(UpstreamProtocolError, match="malformed JSON") as caught:
        await api.request_json("POST", upstream.base_url + "/m", {"q": 1})
    assert caught.value.provider == "p" and upstream.last_request.json == {"q": 1}
    with pytest.raises(RateLimited, match="answered 429 with a non-JSON body"):
        await api.request("GET", upstream.base_url + "/m")
    await api.aclose()


class CountingClient(HttpClient):
    """An :class:`HttpClient` that counts what is sent through it and whether it was closed."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.sent = 0
        self.closed = False

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        return await super().request(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        return super().stream(*args, **kwargs)

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


async def test_an_injected_client_is_sent_with_and_left_to_its_owner() -> None:
    client = CountingClient("o")
    ask = ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content="hi")])
    with OpenAIUpstream() as server:
        settings = OpenAISettings(base_url=server.base_url, api_key="k")
        provider = build_provider("o", settings, http=client)
        await provider.chat(ask)
        assert "stop" in [c.finish_reason async for c in provider.stream(ask)]
        await provider.aclose()
        assert client.sent == 2 and not client.closed
        again = build_provider("o", settings, http=client)  # the client outlives the adapter
        await again.chat(ask)
        assert client.sent == 3
        await again.aclose()
    await client.aclose()


def test_an_adapter_that_does_not_speak_http_takes_no_client() -> None:
    with pytest.raises(TypeError, match="'fake' adapter does not speak HTTP"):
        build_provider("f", FakeSettings(), http=HttpClient("f"))
