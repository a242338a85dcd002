"""The ``ollama`` adapter: Ollama's native API (``/api/chat``, ``/api/embed``, ``/api/tags``,
``/api/version``).

Translation lives in :mod:`.translate`, :mod:`.stream` and :mod:`.embed`, error mapping in
:mod:`.errors`, NDJSON framing in :mod:`switchyard.streaming.ndjson`; this module only does I/O:
it builds URLs and headers (no auth unless an ``api_key`` is configured), sends with the
provider's :class:`HttpApi` and hands bytes to those pure functions, so only taxonomy errors
leave it.

Streams are NDJSON, read by :class:`HttpApi` through :class:`OllamaStreamTranslator`: an error
status is raised before anything is yielded (the gateway can still fail over); the ``done:
true`` line ends the stream (the connection is released at once); an ``{"error": ...}`` line
raises the mapped error; a stream that ends without its done line raises
``ProviderUnavailable``; a line that is not JSON raises ``UpstreamProtocolError``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from switchyard.errors import SwitchyardError
from switchyard.providers.base import Capabilities, HealthCheck
from switchyard.providers.http_api import HttpProvider
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
from switchyard.streaming.framing import NDJSON
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)


class OllamaProvider(HttpProvider[OllamaSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
    )

    default_base_url = "http://127.0.0.1:11434"
    framing = NDJSON

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        payload = await self._json("POST", "/api/chat", self._body(request, stream=False))
        return response_from_ollama(
            payload,
            model=request.model,
            response_id=_new_id(),
            created=int(time.time()),
            provider=self.name,
        )

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        translator = OllamaStreamTranslator(
            model=request.model, stream_id=_new_id(), created=int(time.time()), provider=self.name
        )
        return self.api.stream(
            self.api.base_url + "/api/chat", self._body(request, stream=True), translator
        )

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        body = embed_request_to_ollama(request, keep_alive=self.settings.keep_alive)
        return embed_response_from_ollama(
            await self._json("POST", "/api/embed", body),
            model=request.model,
            expected=len(request.input),
            provider=self.name,
        )

    async def list_models(self) -> list[str]:
        return models_from_ollama(await self._json("GET", "/api/tags"), self.name)

    async def health_check(self) -> HealthCheck:
        version_from_ollama(await self._json("GET", "/api/version"), self.name)
        return "healthy"

    # -- helpers ----------------------------------------------------------------------------

    def _map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> SwitchyardError:
        return map_error(status, headers, body, provider=self.name)

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return request_to_ollama(
            request,
            stream=stream,
            options=self.settings.options,
            keep_alive=self.settings.keep_alive,
        )

    async def _json(self, method: str, path: str, body: Any = None) -> Any:
        return await self.api.request_json(method, self.api.base_url + path, body)


def _new_id() -> str:
    """Ollama's replies carry no id: one of the gateway's, in OpenAI's style."""
    return f"chatcmpl-{secrets.token_hex(12)}"


__all__ = ["OllamaProvider"]
