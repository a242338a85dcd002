"""The ``cohere`` adapter: Cohere's v2 API (chat, streamed chat, embed) and its model list.

Translation lives in :mod:`.translate`, :mod:`.stream` and :mod:`.embed`, error mapping in
:mod:`.errors`; this module only does I/O: it builds URLs and headers (``Authorization:
Bearer``), sends with the provider's :class:`HttpApi` and hands bytes to those pure
functions, so only taxonomy errors leave it.

Streams are SSE whose ``data`` are the v2 events, read by :class:`HttpApi` through
:class:`CohereStreamTranslator`: an error status is raised before anything is yielded (the
gateway can still fail over); ``message-end`` ends the stream (the connection is released at
once); a stream that ends without it raises ``ProviderUnavailable``; malformed JSON raises
``UpstreamProtocolError``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode

from switchyard.errors import SwitchyardError
from switchyard.providers.base import Capabilities, HealthCheck
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
from switchyard.providers.http_api import HttpProvider
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)

_MAX_MODEL_PAGES = 20


class CohereProvider(HttpProvider[CohereSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
    )

    default_base_url = "https://api.cohere.com"

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        payload = await self._post("/v2/chat", request_to_cohere(request, stream=False))
        return response_from_cohere(
            payload, model=request.model, created=int(time.time()), provider=self.name
        )

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        translator = CohereStreamTranslator(
            model=request.model, created=int(time.time()), provider=self.name
        )
        return self.api.stream(
            self.api.base_url + "/v2/chat", request_to_cohere(request, stream=True), translator
        )

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        parts = []
        for texts in embed_batches(request.input):
            body = embed_request_to_cohere(request, texts, self.settings.embed_input_type)
            parts.append(
                embed_response_from_cohere(
                    await self._post("/v2/embed", body),
                    model=request.model,
                    expected=len(texts),
                    provider=self.name,
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

    async def health_check(self) -> HealthCheck:
        models_from_cohere(await self._get_models({"page_size": "1"}), self.name)
        return "healthy"

    # -- helpers ----------------------------------------------------------------------------

    def _map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> SwitchyardError:
        return map_error(status, headers, body, provider=self.name)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return await self.api.request_json("POST", self.api.base_url + path, body)

    async def _get_models(self, query: dict[str, str]) -> Any:
        url = f"{self.api.base_url}/v1/models?{urlencode(query)}"
        return await self.api.request_json("GET", url)


__all__ = ["CohereProvider"]
