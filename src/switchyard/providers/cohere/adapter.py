"""The ``cohere`` adapter: Cohere's v2 API (chat, streamed chat, embed) and its model list.

Translation lives in :mod:`.translate`, :mod:`.stream` and :mod:`.embed`, error mapping in
:mod:`.errors`; this module only does I/O: it builds URLs and headers (``Authorization:
Bearer``), sends with the provider's :class:`HttpClient` and hands bytes to those pure
functions, so only taxonomy errors leave it.

Streams are SSE whose ``data`` are the v2 events. An error status is raised before anything is
yielded (the gateway can still fail over); ``message-end`` ends the stream (the connection is
released at once); a stream that ends without it raises ``ProviderUnavailable``; malformed
JSON raises ``UpstreamProtocolError``. The connection is released however the stream ends,
also when the consumer stops early and closes the generator.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from functools import partial
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

import orjson

from switchyard.errors import UpstreamProtocolError
from switchyard.providers.base import Capabilities, Provider
from switchyard.providers.cohere.embed import (
    embed_batches,
    embed_request_to_cohere,
    embed_response_from_cohere,
    merge_embeddings,
    models_from_cohere,
)
from switchyard.providers.cohere.errors import map_error
from switchyard.providers.cohere.settings import CohereSettings
from switchyard.providers.cohere.stream import CohereStreamTranslator
from switchyard.providers.cohere.translate import request_to_cohere, response_from_cohere
from switchyard.providers.http import ErrorMapper, HttpClient, HttpReply, json_headers
from switchyard.providers.http_json import open_stream, reply_json, sse_events
from switchyard.streaming.sse import SseEvent, SseParser
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)

_DEFAULT_BASE_URL = "https://api.cohere.com"
_MAX_MODEL_PAGES = 20


class CohereProvider(Provider[CohereSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
    )

    def __init__(self, name: str, settings: CohereSettings) -> None:
        super().__init__(name, settings)
        self._http = HttpClient(name, settings)
        self._map_error: ErrorMapper = partial(map_error, provider=name)
        self._base_url = (settings.base_url or _DEFAULT_BASE_URL).rstrip("/")
        self._headers = _headers(settings)
        self._stream_headers = {**self._headers, "accept": "text/event-stream"}

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = request_to_cohere(request, stream=False)
        reply = await self._post("/v2/chat", body)
        return response_from_cohere(
            self._json(reply), model=request.model, created=int(time.time()), provider=self.name
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = request_to_cohere(request, stream=True)
        async with open_stream(
            self._http,
            self._base_url + "/v2/chat",
            body=orjson.dumps(body),
            headers=self._stream_headers,
            map_error=self._map_error,
        ) as reply:
            translator = CohereStreamTranslator(
                model=request.model, created=int(time.time()), provider=self.name
            )
            chunks = cast(AsyncGenerator[bytes, None], reply.chunks())
            parser = SseParser()
            try:
                async for data in chunks:
                    for event in sse_events(parser, data, self.name):
                        for chunk in self._translate(translator, event):
                            yield chunk
                        if translator.ended:
                            return
                for event in sse_events(parser, None, self.name):
                    for chunk in self._translate(translator, event):
                        yield chunk
            finally:
                await chunks.aclose()
            for chunk in translator.finish():
                yield chunk

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        parts = []
        for texts in embed_batches(request.input):
            body = embed_request_to_cohere(request, texts, self.settings.embed_input_type)
            reply = await self._post("/v2/embed", body)
            parts.append(
                embed_response_from_cohere(
                    self._json(reply), model=request.model, expected=len(texts), provider=self.name
                )
            )
        return merge_embeddings(parts)

    async def list_models(self) -> list[str]:
        names: list[str] = []
        token: str | None = None
        for _ in range(_MAX_MODEL_PAGES):
            query = {"page_size": "1000", **({"page_token": token} if token else {})}
            page, token = models_from_cohere(await self._get_models(query), self.name)
            names += page
            if token is None:
                break
        return names

    async def health_check(self) -> None:
        models_from_cohere(await self._get_models({"page_size": "1"}), self.name)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any]) -> HttpReply:
        return await self._http.request(
            "POST", self._base_url + path, body=orjson.dumps(body), headers=self._headers
        )

    async def _get_models(self, query: dict[str, str]) -> Any:
        url = f"{self._base_url}/v1/models?{urlencode(query)}"
        return self._json(await self._http.request("GET", url, headers=self._headers))

    def _json(self, reply: HttpReply) -> Any:
        return reply_json(reply, self._map_error, self.name)

    def _translate(self, translator: CohereStreamTranslator, event: SseEvent) -> list[ChatChunk]:
        if not event.data or event.data == "[DONE]":
            return []
        try:
            payload = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            raise UpstreamProtocolError(
                f"upstream sent a malformed stream event: {event.data[:200]!r}",
                provider=self.name,
            ) from exc
        return translator.feed(payload, event.event)


def _headers(settings: CohereSettings) -> dict[str, str]:
    api_key = settings.api_key_value()
    auth = {"authorization": f"Bearer {api_key}" if api_key else None}
    return json_headers(auth, settings.headers)


__all__ = ["CohereProvider"]
