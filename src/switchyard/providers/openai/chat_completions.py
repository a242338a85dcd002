"""OpenAI's chat-completions protocol over HTTP: the I/O every OpenAI-compatible adapter shares.

:class:`ChatCompletionsProvider` sends with the provider's :class:`HttpApi` and hands bytes to
the pure codec in :mod:`switchyard.formats.openai_chat`. What differs between services is
asked of a few small methods a subclass may override, each with OpenAI's own behaviour by
default: where a request goes (:meth:`~ChatCompletionsProvider._url`), the request body
(:meth:`~ChatCompletionsProvider._chat_body`, :meth:`~ChatCompletionsProvider._embedding_body`),
a reply payload before the codec reads it (:meth:`~ChatCompletionsProvider._read_payload`) and
what an error means (:meth:`~ChatCompletionsProvider._map_error`,
:meth:`~ChatCompletionsProvider._map_error_payload`). The ``openai`` adapter
is this class with OpenAI's settings; the OpenAI-compatible presets
(:mod:`switchyard.providers.openai_compatible`) are this class with a preset's quirks.

Streams are SSE (``data: {chunk}`` ... ``data: [DONE]``), read by :class:`HttpApi` through
:class:`~switchyard.providers.openai.stream.ChatCompletionsStreamTranslator`: an upstream error
status is raised before anything is yielded, so the gateway can still fail over; an
``{"error": ...}`` event mid-stream raises the mapped error; a stream that ends without
``[DONE]`` raises ``ProviderUnavailable``. Only taxonomy errors leave this class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from switchyard.errors import SwitchyardError, UpstreamProtocolError
from switchyard.formats.json_body import parse_json
from switchyard.formats.openai_chat import (
    embedding_request_to_openai,
    embedding_response_from_openai,
    map_openai_error,
    map_openai_error_payload,
    request_to_openai,
    response_from_openai,
)
from switchyard.providers.base import HealthCheck, SettingsT, chunks_from_response
from switchyard.providers.http_api import HttpProvider
from switchyard.providers.openai.stream import ChatCompletionsStreamTranslator
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
)

Operation = Literal["chat", "embeddings", "models"]
OPERATION_PATHS: dict[Operation, str] = {
    "chat": "/chat/completions",
    "embeddings": "/embeddings",
    "models": "/models",
}


class ChatCompletionsProvider(HttpProvider[SettingsT]):
    """An upstream that speaks OpenAI's chat-completions API."""

    def takes_document_urls(self) -> bool:
        """No: a chat-completions ``file`` part carries its bytes (``file_data``), never a URL."""
        return False

    # -- what a subclass may adjust ---------------------------------------------------------

    def _url(self, operation: Operation, model: str | None) -> str:
        """The URL of ``operation`` (``model`` is the upstream model, when there is one)."""
        return self.api.base_url + OPERATION_PATHS[operation]

    def _chat_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return request_to_openai(request, stream=stream)

    def _embedding_body(self, request: EmbeddingRequest) -> dict[str, Any]:
        return embedding_request_to_openai(request)

    def _read_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A completion or chunk payload as the codec should read it (may raise)."""
        return payload

    def _map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> SwitchyardError:
        """What an error status means."""
        return map_openai_error(status, headers, body, self.name)

    def _map_error_payload(self, payload: Mapping[str, Any]) -> SwitchyardError:
        """What an ``{"error": ...}`` payload means when the status said nothing (a 200)."""
        return map_openai_error_payload(payload, self.name)

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = self._chat_body(request, stream=False)
        payload = await self.api.request_json("POST", self._url("chat", request.model), body)
        return self._response(payload)

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        translator = ChatCompletionsStreamTranslator(
            self.name, read_payload=self._read_payload, map_error_payload=self._map_error_payload
        )
        return self.api.stream(
            self._url("chat", request.model),
            self._chat_body(request, stream=True),
            translator,
            # a server that ignored ``stream: true`` and answered with one completion
            whole=lambda body: chunks_from_response(self._response(parse_json(body, self.name))),
        )

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        body = self._embedding_body(request)
        payload = await self.api.request_json("POST", self._url("embeddings", request.model), body)
        return embedding_response_from_openai(self._object(payload), self.name)

    async def list_models(self) -> list[str]:
        """Model ids from ``GET /models``: OpenAI's ``{"data": [...]}``, or the bare array some
        compatible services (Together) answer with."""
        payload = await self.api.request_json("GET", self._url("models", None))
        if isinstance(payload, dict) and "error" in payload and "data" not in payload:
            raise self._map_error_payload(payload)
        try:
            models = (
                _ModelList.model_validate({"data": payload})
                if isinstance(payload, list)
                else _ModelList.model_validate(payload)
            )
        except ValidationError as exc:
            raise UpstreamProtocolError(
                "malformed model list from upstream", provider=self.name
            ) from exc
        return [model.id for model in models.data]

    async def health_check(self) -> HealthCheck:
        """``GET /models``: it proves the endpoint answers and takes the key. A service whose
        list is not the names requests use (Azure's lists base models, not deployments) does
        not declare ``list_models``, yet answers it as well."""
        await self.list_models()
        return "healthy"

    # -- helpers ----------------------------------------------------------------------------

    def _response(self, payload: Any) -> ChatResponse:
        return response_from_openai(self._read_payload(self._object(payload)), self.name)

    def _object(self, payload: Any) -> dict[str, Any]:
        """The reply's JSON object, or the taxonomy error its content means."""
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("upstream reply is not a JSON object", provider=self.name)
        if "error" in payload and "choices" not in payload and "data" not in payload:
            raise self._map_error_payload(payload)
        return payload


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _ModelList(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Model]


__all__ = ["OPERATION_PATHS", "ChatCompletionsProvider", "Operation"]
