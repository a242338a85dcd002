"""The ``anthropic`` adapter: Anthropic's Messages API over :class:`HttpApi`.

Translation is pure and lives beside this module; here are only the URL, the headers
(``x-api-key``, ``anthropic-version``, ``anthropic-beta``) and the body, with
:func:`map_error` at the boundary (every non-2xx reply), so only taxonomy errors leave.

Streams are SSE with named events, read by :class:`HttpApi` through :class:`StreamTranslator`:
an error status is raised before anything is yielded (the gateway can still fail over); an
``error`` event mid-stream raises its mapped error; a stream that ends without
``message_stop`` raises ``ProviderUnavailable``. The default ``max_tokens`` comes from the
gateway's catalog (``catalog.models`` in config overrides the packaged entries).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from switchyard.catalog.catalog import Catalog
from switchyard.errors import SwitchyardError
from switchyard.providers.anthropic.errors import map_error
from switchyard.providers.anthropic.json_mode import check_json_reply
from switchyard.providers.anthropic.reply import (
    model_page_from_anthropic,
    response_from_anthropic,
)
from switchyard.providers.anthropic.settings import DEFAULT_BASE_URL, AnthropicSettings
from switchyard.providers.anthropic.stream import StreamTranslator
from switchyard.providers.anthropic.translate import default_max_tokens, request_to_anthropic
from switchyard.providers.base import Capabilities, HealthCheck, chunks_from_response
from switchyard.providers.http import json_headers
from switchyard.providers.http_api import HttpProvider
from switchyard.types import ChatChunk, ChatRequest, ChatResponse

_MODEL_PAGES = 20  # at 1,000 models a page; a guard against an upstream that never ends


class AnthropicProvider(HttpProvider[AnthropicSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, documents=True, json_mode=True, list_models=True
    )

    default_base_url = DEFAULT_BASE_URL

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = await self.api.request(
            "POST",
            self._messages_url(),
            self._body(request, stream=False),
            self._request_headers(request),
        )
        return self._reply(body, request, created=int(time.time()))

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        created = int(time.time())
        translator = StreamTranslator(
            self.name, created=created, response_format=request.response_format
        )
        return self.api.stream(
            self._messages_url(),
            self._body(request, stream=True),
            translator,
            # a server that ignored ``stream: true`` (or put an error in a 200 reply)
            whole=lambda body: chunks_from_response(self._reply(body, request, created=created)),
            headers=self._request_headers(request),
        )

    async def list_models(self) -> list[str]:
        """Every page of ``GET /v1/models``."""
        ids: list[str] = []
        after: str | None = None
        for _ in range(_MODEL_PAGES):
            query = "?limit=1000" + (f"&after_id={quote(after, safe='')}" if after else "")
            body = await self.api.request("GET", self.api.base_url + "/v1/models" + query)
            page, after = model_page_from_anthropic(body, self.name)
            ids.extend(page)
            if after is None:
                break
        return ids

    async def health_check(self) -> HealthCheck:
        await self.list_models()
        return "healthy"

    # -- helpers ----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        settings = self.settings
        own = {
            "anthropic-version": settings.anthropic_version,
            "x-api-key": settings.api_key_value() or None,
            "anthropic-beta": ",".join(settings.beta) if settings.beta else None,
        }
        return json_headers(own, settings.headers)

    def _request_headers(self, request: ChatRequest) -> dict[str, str] | None:
        """The client's ``anthropic-beta`` (from the Anthropic door), after the configured
        ``beta`` features, each once; None when the client sent none."""
        native = request.format_fields
        if native is None or native.format != "anthropic":
            return None
        client = native.headers.get("anthropic-beta")
        if not client:
            return None
        features = [*self.settings.beta, *(f.strip() for f in client.split(","))]
        return {"anthropic-beta": ",".join(dict.fromkeys(f for f in features if f))}

    def _map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> SwitchyardError:
        return map_error(status, headers, body, provider=self.name)

    def _messages_url(self) -> str:
        return self.api.base_url + "/v1/messages"

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        max_tokens = request.max_tokens
        if max_tokens is None:
            max_tokens = default_max_tokens(
                request.model, self.catalog or Catalog.default(), self.settings.default_max_tokens
            )
        return request_to_anthropic(request, max_tokens=max_tokens, stream=stream)

    def _reply(self, body: bytes, request: ChatRequest, *, created: int) -> ChatResponse:
        """A whole reply, its JSON checked when the request asked for JSON."""
        response = response_from_anthropic(body, self.name, created=created)
        if response.choices[0].finish_reason == "stop":
            check_json_reply(response.text, request.response_format, self.name)
        return response


__all__ = ["AnthropicProvider"]
