"""The ``gemini`` adapter: I/O only. Translation is in ``translate`` / ``reply`` / ``stream``.

URLs are ``{base_url}/{api_version}/models/{model}:generateContent``,
``...:streamGenerateContent?alt=sse``, ``...:embedContent`` / ``...:batchEmbedContents`` and
``{base_url}/{api_version}/models``. The API key goes in the ``x-goog-api-key`` header, never
in the URL, so it cannot reach an access log.

Every non-2xx reply goes through ``map_gemini_error`` and every unreadable one becomes
``UpstreamProtocolError``. A stream's error status is raised before anything is yielded (the
gateway can still fail over); an ``{"error": ...}`` event mid-stream raises the mapped error; a
stream that ends before every candidate finished raises ``ProviderUnavailable``. The connection
is released however the stream ends, also when the consumer closes the generator early.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from functools import partial
from typing import Any, ClassVar, cast
from urllib.parse import quote

import orjson

from switchyard.errors import UpstreamProtocolError
from switchyard.providers.base import Capabilities, Provider
from switchyard.providers.gemini.errors import map_gemini_error, map_gemini_error_payload
from switchyard.providers.gemini.reply import (
    embeddings_from_gemini,
    models_from_gemini,
    response_from_gemini,
)
from switchyard.providers.gemini.settings import GeminiSettings
from switchyard.providers.gemini.stream import StreamTranslator
from switchyard.providers.gemini.translate import chat_body, embed_body, model_resource
from switchyard.providers.http import ErrorMapper, HttpClient, HttpReply, json_headers
from switchyard.providers.http_json import open_stream, raise_for_status
from switchyard.streaming.sse import SseEvent, SseParser
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)

_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
_MODEL_PAGES = 20  # list_models follows nextPageToken at most this many times


class GeminiProvider(Provider[GeminiSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
    )

    def __init__(self, name: str, settings: GeminiSettings) -> None:
        super().__init__(name, settings)
        self._http = HttpClient(name, settings)
        self._map_error: ErrorMapper = partial(map_gemini_error, provider=name)
        root = (settings.base_url or _DEFAULT_BASE_URL).rstrip("/")
        self._api = f"{root}/{settings.api_version}"
        self._signature = settings.replayed_thought_signature
        self._headers = _headers(settings)
        self._stream_headers = {**self._headers, "accept": "text/event-stream"}

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = chat_body(request, thought_signature=self._signature)
        reply = await self._post(f"{model_resource(request.model)}:generateContent", body)
        return response_from_gemini(
            self._json(reply),
            provider=self.name,
            model=request.model,
            created=int(time.time()),
            fallback_id=_new_id(),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = chat_body(request, thought_signature=self._signature)
        url = f"{self._api}/{model_resource(request.model)}:streamGenerateContent?alt=sse"
        translator = StreamTranslator(
            provider=self.name, model=request.model, created=int(time.time()), fallback_id=_new_id()
        )
        async with open_stream(
            self._http,
            url,
            body=orjson.dumps(body),
            headers=self._stream_headers,
            map_error=self._map_error,
        ) as reply:
            chunks = cast(AsyncGenerator[bytes, None], reply.chunks())
            try:
                if reply.headers.get("content-type", "").startswith("application/json"):
                    # An upstream that ignored alt=sse answers with a JSON array of chunks.
                    raw = b"".join([piece async for piece in chunks])
                    for chunk in self._translate_array(translator, raw):
                        yield chunk
                else:
                    parser = SseParser()
                    async for data in chunks:
                        for event in self._events(parser, data):
                            for chunk in self._translate(translator, event):
                                yield chunk
                    for event in self._events(parser, None):
                        for chunk in self._translate(translator, event):
                            yield chunk
            finally:
                await chunks.aclose()
        for chunk in translator.finish():
            yield chunk

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        method, body = embed_body(request)
        reply = await self._post(f"{model_resource(request.model)}:{method}", body)
        return embeddings_from_gemini(
            self._json(reply),
            batch=method == "batchEmbedContents",
            expected=len(request.input),
            provider=self.name,
            model=request.model,
        )

    async def list_models(self) -> list[str]:
        names: list[str] = []
        token: str | None = None
        for _ in range(_MODEL_PAGES):
            query = "?pageSize=1000" + (f"&pageToken={quote(token, safe='')}" if token else "")
            reply = await self._http.request(
                "GET", f"{self._api}/models{query}", headers=self._headers
            )
            page, token = models_from_gemini(self._json(reply), self.name)
            names.extend(page)
            if token is None:
                break
        return names

    async def health_check(self) -> None:
        reply = await self._http.request(
            "GET", f"{self._api}/models?pageSize=1", headers=self._headers
        )
        models_from_gemini(self._json(reply), self.name)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any]) -> HttpReply:
        return await self._http.request(
            "POST", f"{self._api}/{path}", body=orjson.dumps(body), headers=self._headers
        )

    def _json(self, reply: HttpReply) -> dict[str, Any]:
        """The reply's JSON object, or the taxonomy error its status or content means."""
        raise_for_status(reply, self._map_error)
        payload = self._loads(reply.body)
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("Gemini reply is not a JSON object", provider=self.name)
        if "error" in payload:
            raise map_gemini_error_payload(payload, self.name)
        return payload

    def _loads(self, data: bytes | str) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise UpstreamProtocolError(
                f"Gemini sent malformed JSON: {str(data)[:200]}", provider=self.name
            ) from exc

    def _events(self, parser: SseParser, data: bytes | None) -> list[SseEvent]:
        """Events completed by ``data``; ``None``: the body ended, flush what is left."""
        try:
            return parser.finish() if data is None else parser.feed(data)
        except UnicodeDecodeError as exc:
            raise UpstreamProtocolError("Gemini stream is not UTF-8", provider=self.name) from exc

    def _translate(self, translator: StreamTranslator, event: SseEvent) -> list[ChatChunk]:
        if not event.data.strip():
            return []
        payload = self._loads(event.data)
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("stream chunk is not a JSON object", provider=self.name)
        if "error" in payload:
            raise map_gemini_error_payload(payload, self.name)
        return translator.feed(payload)

    def _translate_array(self, translator: StreamTranslator, raw: bytes) -> list[ChatChunk]:
        payload = self._loads(raw)
        items = payload if isinstance(payload, list) else [payload]
        chunks: list[ChatChunk] = []
        for item in items:
            if not isinstance(item, dict):
                raise UpstreamProtocolError("stream chunk is not a JSON object", provider=self.name)
            if "error" in item:
                raise map_gemini_error_payload(item, self.name)
            chunks.extend(translator.feed(item))
        return chunks


def _headers(settings: GeminiSettings) -> dict[str, str]:
    return json_headers({"x-goog-api-key": settings.api_key_value() or None}, settings.headers)


def _new_id() -> str:
    return f"gen-{uuid.uuid4().hex[:24]}"


__all__ = ["GeminiProvider"]
