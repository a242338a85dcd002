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
from functools import partial
from typing import ClassVar, cast
from urllib.parse import quote

import orjson

from switchyard.catalog.catalog import Catalog
from switchyard.providers.anthropic.errors import map_error
from switchyard.providers.anthropic.json_mode import check_json_reply
from switchyard.providers.anthropic.reply import (
    model_page_from_anthropic,
    response_from_anthropic,
)
from switchyard.providers.anthropic.settings import DEFAULT_BASE_URL, AnthropicSettings
from switchyard.providers.anthropic.stream import StreamTranslator
from switchyard.providers.anthropic.translate import default_max_tokens, request_to_anthropic
from switchyard.providers.base import Capabilities, Provider, chunks_from_response
from switchyard.providers.http import ErrorMapper, HttpClient, json_headers
from switchyard.providers.http_json import open_stream, raise_for_status, sse_events
from switchyard.streaming.sse import SseParser
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
        self._http = HttpClient(name, settings)
        self._map_error: ErrorMapper = partial(map_error, provider=name)
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
        raise_for_status(reply, self._map_error)
        return self._reply(reply.body, request, created=int(time.time()))

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = self._body(request, stream=True)
        created = int(time.time())
        translator = StreamTranslator(
            self.name, created=created, response_format=request.response_format
        )
        async with open_stream(
            self._http,
            self._base_url + "/v1/messages",
            body=body,
            headers=self._stream_headers,
            map_error=self._map_error,
        ) as reply:
            if reply.headers.get("content-type", "").startswith("application/json"):
                # a server that ignored ``stream: true`` (or put an error in a 200 reply)
                whole = self._reply(await reply.read(), request, created=created)
                for chunk in chunks_from_response(whole):
                    yield chunk
                return
            chunks = cast(AsyncGenerator[bytes, None], reply.chunks())
            parser = SseParser()
            try:
                async for data in chunks:
                    for event in sse_events(parser, data, self.name):
                        for chunk in translator.feed(event):
                            yield chunk
                        if translator.done:
                            return
                for event in sse_events(parser, None, self.name):
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
            raise_for_status(reply, self._map_error)
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


def _headers(settings: AnthropicSettings) -> dict[str, str]:
    own = {
        "anthropic-version": settings.anthropic_version,
        "x-api-key": settings.api_key_value() or None,
        "anthropic-beta": ",".join(settings.beta) if settings.beta else None,
    }
    return json_headers(own, settings.headers)


__all__ = ["AnthropicProvider"]
