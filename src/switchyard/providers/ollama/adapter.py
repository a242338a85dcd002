"""The ``ollama`` adapter: Ollama's native API (``/api/chat``, ``/api/embed``, ``/api/tags``,
``/api/version``).

Translation lives in :mod:`.translate`, :mod:`.stream` and :mod:`.embed`, error mapping in
:mod:`.errors`, NDJSON framing in :mod:`switchyard.streaming.ndjson`; this module only does I/O:
it builds URLs and headers (no auth unless an ``api_key`` is configured), sends with the
provider's :class:`HttpClient` and hands bytes to those pure functions, so only taxonomy errors
leave it.

Streams are NDJSON. An error status is raised before anything is yielded (the gateway can
still fail over); the ``done: true`` line ends the stream (the connection is released at once);
an ``{"error": ...}`` line raises the mapped error; a stream that ends without its done line
raises ``ProviderUnavailable``; a line that is not JSON raises ``UpstreamProtocolError``. The
connection is released however the stream ends, also when the consumer stops early.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator
from functools import partial
from typing import Any, ClassVar, cast

import orjson

from switchyard.errors import UpstreamProtocolError
from switchyard.providers.base import Capabilities, Provider
from switchyard.providers.http import ErrorMapper, HttpClient, HttpReply, json_headers
from switchyard.providers.http_json import open_stream, reply_json
from switchyard.providers.ollama.embed import (
    embed_request_to_ollama,
    embed_response_from_ollama,
    models_from_ollama,
    version_from_ollama,
)
from switchyard.providers.ollama.errors import map_error
from switchyard.providers.ollama.settings import OllamaSettings
from switchyard.providers.ollama.stream import OllamaStreamTranslator
from switchyard.providers.ollama.translate import request_to_ollama, response_from_ollama
from switchyard.streaming.ndjson import NdjsonParser
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)

_DEFAULT_BASE_URL = "http://127.0.0.1:11434"


class OllamaProvider(Provider[OllamaSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
    )

    def __init__(self, name: str, settings: OllamaSettings) -> None:
        super().__init__(name, settings)
        self._http = HttpClient(name, settings)
        self._map_error: ErrorMapper = partial(map_error, provider=name)
        self._base_url = (settings.base_url or _DEFAULT_BASE_URL).rstrip("/")
        self._headers = _headers(settings)
        self._stream_headers = {**self._headers, "accept": "application/x-ndjson"}

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        reply = await self._post("/api/chat", self._body(request, stream=False))
        return response_from_ollama(
            self._json(reply),
            model=request.model,
            response_id=_new_id(),
            created=int(time.time()),
            provider=self.name,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = self._body(request, stream=True)
        async with open_stream(
            self._http,
            self._base_url + "/api/chat",
            body=orjson.dumps(body),
            headers=self._stream_headers,
            map_error=self._map_error,
        ) as reply:
            translator = OllamaStreamTranslator(
                model=request.model,
                stream_id=_new_id(),
                created=int(time.time()),
                provider=self.name,
            )
            chunks = cast(AsyncGenerator[bytes, None], reply.chunks())
            parser = NdjsonParser()
            try:
                async for data in chunks:
                    for line in self._lines(parser, data):
                        for chunk in translator.feed(line):
                            yield chunk
                        if translator.ended:
                            return
                for line in self._lines(parser, None):
                    for chunk in translator.feed(line):
                        yield chunk
            finally:
                await chunks.aclose()
            for chunk in translator.finish():
                yield chunk

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        body = embed_request_to_ollama(request, keep_alive=self.settings.keep_alive)
        reply = await self._post("/api/embed", body)
        return embed_response_from_ollama(
            self._json(reply), model=request.model, expected=len(request.input), provider=self.name
        )

    async def list_models(self) -> list[str]:
        reply = await self._http.request("GET", self._base_url + "/api/tags", headers=self._headers)
        return models_from_ollama(self._json(reply), self.name)

    async def health_check(self) -> None:
        url = self._base_url + "/api/version"
        version_from_ollama(
            self._json(await self._http.request("GET", url, headers=self._headers)), self.name
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return request_to_ollama(
            request,
            stream=stream,
            options=self.settings.options,
            keep_alive=self.settings.keep_alive,
        )

    async def _post(self, path: str, body: dict[str, Any]) -> HttpReply:
        return await self._http.request(
            "POST", self._base_url + path, body=orjson.dumps(body), headers=self._headers
        )

    def _json(self, reply: HttpReply) -> Any:
        return reply_json(reply, self._map_error, self.name)

    def _lines(self, parser: NdjsonParser, data: bytes | None) -> list[Any]:
        """The lines ``data`` completes (None: the stream is over), naming this provider in
        the framing's errors."""
        try:
            return parser.feed(data) if data is not None else parser.finish()
        except UpstreamProtocolError as exc:
            exc.provider = exc.provider or self.name
            raise


def _new_id() -> str:
    """Ollama's replies carry no id: one of the gateway's, in OpenAI's style."""
    return f"chatcmpl-{secrets.token_hex(12)}"


def _headers(settings: OllamaSettings) -> dict[str, str]:
    api_key = settings.api_key_value()
    auth = {"authorization": f"Bearer {api_key}" if api_key else None}
    return json_headers(auth, settings.headers)


__all__ = ["OllamaProvider"]
