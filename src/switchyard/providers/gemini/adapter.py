"""The ``gemini`` adapter: I/O only. Translation is in ``translate`` / ``reply`` / ``stream``.

URLs are ``{base_url}/{api_version}/models/{model}:generateContent``,
``...:streamGenerateContent?alt=sse``, ``...:embedContent`` / ``...:batchEmbedContents`` and
``{base_url}/{api_version}/models``. The API key goes in the ``x-goog-api-key`` header, never
in the URL, so it cannot reach an access log.

Every non-2xx reply goes through ``map_gemini_error`` and every unreadable one becomes
``UpstreamProtocolError``. Streams are read by :class:`HttpApi` through
:class:`StreamTranslator`: an error status is raised before anything is yielded (the gateway
can still fail over); an ``{"error": ...}`` event mid-stream raises the mapped error; a stream
that ends before every candidate finished raises ``ProviderUnavailable``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from switchyard.errors import SwitchyardError, UpstreamProtocolError
from switchyard.providers.base import Capabilities, HealthCheck
from switchyard.providers.gemini.errors import map_gemini_error, map_gemini_error_payload
from switchyard.providers.gemini.reply import (
    embeddings_from_gemini,
    models_from_gemini,
    response_from_gemini,
)
from switchyard.providers.gemini.settings import GeminiSettings
from switchyard.providers.gemini.stream import StreamTranslator
from switchyard.providers.gemini.translate import chat_body, embed_body, model_resource
from switchyard.providers.http import json_headers
from switchyard.providers.http_api import HttpProvider
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)

_MODEL_PAGES = 20  # list_models follows nextPageToken at most this many times


class GeminiProvider(HttpProvider[GeminiSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True,
        vision=True,
        documents=True,
        json_mode=True,
        embeddings=True,
        list_models=True,
    )

    default_base_url = "https://generativelanguage.googleapis.com"

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = chat_body(request, thought_signature=self.settings.replayed_thought_signature)
        payload = await self._json("POST", f"{model_resource(request.model)}:generateContent", body)
        return response_from_gemini(
            payload,
            provider=self.name,
            model=request.model,
            created=int(time.time()),
            fallback_id=_new_id(),
        )

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        translator = StreamTranslator(
            provider=self.name, model=request.model, created=int(time.time()), fallback_id=_new_id()
        )
        return self.api.stream(
            f"{self.api.base_url}/{model_resource(request.model)}:streamGenerateContent?alt=sse",
            chat_body(request, thought_signature=self.settings.replayed_thought_signature),
            translator,
            whole=translator.whole_reply,  # an upstream that ignored alt=sse: a JSON array
        )

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        method, body = embed_body(request)
        payload = await self._json("POST", f"{model_resource(request.model)}:{method}", body)
        return embeddings_from_gemini(
            payload,
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
            page, token = models_from_gemini(await self._json("GET", "models" + query), self.name)
            names.extend(page)
            if token is None:
                break
        return names

    async def health_check(self) -> HealthCheck:
        models_from_gemini(await self._json("GET", "models?pageSize=1"), self.name)
        return "healthy"

    # -- helpers ----------------------------------------------------------------------------

    def _base_url(self) -> str:
        """The versioned API root: ``{base_url}/{api_version}``."""
        return f"{super()._base_url()}/{self.settings.api_version}"

    def _headers(self) -> dict[str, str]:
        key = self.settings.api_key_value() or None
        return json_headers({"x-goog-api-key": key}, self.settings.headers)

    def _map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> SwitchyardError:
        return map_gemini_error(status, headers, body, provider=self.name)

    async def _json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """The JSON object of ``{base_url}/{api_version}/{path}``'s reply, or the taxonomy
        error its status or content means."""
        payload = await self.api.request_json(method, f"{self.api.base_url}/{path}", body)
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("Gemini reply is not a JSON object", provider=self.name)
        if "error" in payload:
            raise map_gemini_error_payload(payload, self.name)
        return payload


def _new_id() -> str:
    return f"gen-{uuid.uuid4().hex[:24]}"


__all__ = ["GeminiProvider"]
