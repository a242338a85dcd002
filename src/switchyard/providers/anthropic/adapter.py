"""The ``anthropic`` adapter: Anthropic's Messages API over :class:`HttpClient`.

Translation is pure and lives beside this module; here are only the URL, the headers
(``x-api-key``, ``anthropic-version``, ``anthropic-beta``), sending, and the boundary where
every non-2xx reply goes through :func:`map_error`, so only taxonomy errors leave.

Streams are SSE with named events. An error status is raised before anything is yielded (the
gateway can still fail over); an ``error`` event mid-stream raises its mapped error; a stream
that ends without ``message_stop`` raises ``ProviderUnavailable``. The connection is released
however the stream ends, also when the consumer stops early and closes the generator.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import ClassVar, cast
from urllib.parse import quote

import orjson

from switchyard.catalog.catalog import Catalog
from switchyard.errors import UpstreamProtocolError
from switchyard.providers.anthropic.errors import map_error
from switchyard.providers.anthropic.json_mode import check_json_reply
from switchyard.providers.anthropic.reply import (
    model_page_from_anthropic,
    response_from_anthropic,
)
from switchyard.providers.anthropic.settings import DEFAULT_BASE_URL, AnthropicSettings
from switchyard.providers.anthropic.stream import StreamTranslator, chunks_from_response
from switchyard.providers.anthropic.translate import default_max_tokens, request_to_anthropic
from switchyard.providers.base import Capabilities, Provider
from switchyard.providers.http import HttpClient, HttpReply, StreamingReply
from switchyard.streaming.sse import SseEvent, SseParser
from switchyard.types import ChatChunk, ChatRequest, ChatResponse

_MODEL_PAGES = 20  # at 1,000 models a page; a guard against an upstream that never ends


class AnthropicProvider(Provider[AnthropicSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, list_models=True
    )

    def __init__(
        self, name: str, settings: AnthropicSettings, *, catalog: Catalog | None = None
    ) -> None:
        super().__init__(name, settings)
        self._http = HttpClient(name, settings.timeout)
        self._base_url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._catalog = catalog
        self._headers = _headers(settings)
        self._stream_headers = {**self._headers, "accept": "text/event-stream"}

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = self._body(request, stream=False)
        reply = await self._http.request(
            "POST", self._base_url + "/v1/messages", body=body, headers=self._headers
        )
        self._raise_for_status(reply)
        return self._reply(reply.body, request, created=int(time.time()))

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = self._body(request, stream=True)
        created = int(time.time())
        translator = StreamTranslator(
            self.name, created=created, response_format=request.response_format
        )
        async with self._http.stream(
            "POST", self._base_url + "/v1/messages", body=body, headers=self._stream_headers
        ) as reply:
            if not 200 <= reply.status < 300:
                raise map_error(reply.status, reply.headers, await _read(reply), self.name)
            if reply.headers.get("content-type", "").startswith("application/json"):
                # a server that ignored ``stream: true`` (or put an error in a 200 reply)
                whole = self._reply(await _read(reply), request, created=created)
                for chunk in chunks_from_response(whole):
                    yield chunk
                return
            chunks = cast(AsyncGenerator[bytes, None], reply.chunks())
            parser = SseParser()
            try:
                async for data in chunks:
                    for event in self._feed(parser, data):
                        for chunk in translator.feed(event):
                            yield chunk
                        if translator.done:
                            return
                for event in self._feed(parser, None):
                    for chunk in translator.feed(event):
                        yield chunk
                    if translator.done:
                        return
            finally:
                await chunks.aclose()
        for chunk in translator.finish():  # raises: the stream ended before message_stop
            yield chunk

    async def list_models(self) -> list[str]:
        """Every page of ``GET /v1/models``."""
        ids: list[str] = []
        after: str | None = None
        for _ in range(_MODEL_PAGES):
            query = "?limit=1000" + (f"&after_id={quote(after, safe='')}" if after else "")
            reply = await self._http.request(
                "GET", self._base_url + "/v1/models" + query, headers=self._headers
            )
            self._raise_for_status(reply)
            page, after = model_page_from_anthropic(reply.body, self.name)
            ids.extend(page)
            if after is None:
                break
        return ids

    async def health_check(self) -> None:
        await self.list_models()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------

    def _body(self, request: ChatRequest, *, stream: bool) -> bytes:
        max_tokens = request.max_tokens
        if max_tokens is None:
            if self._catalog is None:
                self._catalog = Catalog.default()
            max_tokens = default_max_tokens(
                request.model, self._catalog, self.settings.default_max_tokens
            )
        return orjson.dumps(request_to_anthropic(request, max_tokens=max_tokens, stream=stream))

    def _reply(self, body: bytes, request: ChatRequest, *, created: int) -> ChatResponse:
        """A whole reply, its JSON checked when the request asked for JSON."""
        response = response_from_anthropic(body, self.name, created=created)
        if response.choices[0].finish_reason == "stop":
            check_json_reply(response.text, request.response_format, self.name)
        return response

    def _raise_for_status(self, reply: HttpReply) -> None:
        if not 200 <= reply.status < 300:
            raise map_error(reply.status, reply.headers, reply.body, self.name)

    def _feed(self, parser: SseParser, data: bytes | None) -> list[SseEvent]:
        """The events ``data`` completes (None: the bytes ended, flush what is left)."""
        try:
            return parser.feed(data) if data is not None else parser.finish()
        except UnicodeDecodeError as exc:
            raise UpstreamProtocolError("upstream stream is not UTF-8", provider=self.name) from exc


def _headers(settings: AnthropicSettings) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "accept": "application/json",
        "anthropic-version": settings.anthropic_version,
    }
    api_key = settings.api_key_value()
    if api_key:
        headers["x-api-key"] = api_key
    if settings.beta:
        headers["anthropic-beta"] = ",".join(settings.beta)
    for name, value in settings.headers.items():  # configured headers win, whatever their case
        headers[name.lower()] = value
    return headers


async def _read(reply: StreamingReply) -> bytes:
    return b"".join([piece async for piece in reply.chunks()])


__all__ = ["AnthropicProvider"]
