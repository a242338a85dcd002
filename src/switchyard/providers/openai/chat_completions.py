"""OpenAI's chat-completions protocol over HTTP: the I/O every OpenAI-compatible adapter shares.

:class:`ChatCompletionsProvider` sends with the provider's :class:`HttpClient` and hands bytes to
the pure codec in :mod:`switchyard.formats.openai_chat`. What differs between services is
asked of a few small methods a subclass may override, each with OpenAI's own behaviour by
default: where a request goes (:meth:`~ChatCompletionsProvider._url`), the request body
(:meth:`~ChatCompletionsProvider._chat_body`, :meth:`~ChatCompletionsProvider._embedding_body`),
a reply payload before the codec reads it (:meth:`~ChatCompletionsProvider._read_payload`) and
what an error means (:meth:`~ChatCompletionsProvider._map_error`,
:meth:`~ChatCompletionsProvider._map_error_payload`). The ``openai`` adapter
is this class with OpenAI's settings; the OpenAI-compatible presets
(:mod:`switchyard.providers.openai_compatible`) are this class with a preset's quirks.

Streams are SSE (``data: {chunk}`` ... ``data: [DONE]``). An upstream error status is raised
before anything is yielded, so the gateway can still fail over; an ``{"error": ...}`` event
mid-stream raises the mapped error; a stream that ends without ``[DONE]`` raises
``ProviderUnavailable``. The connection is released however the stream ends, also when the
consumer stops early and closes the generator. Only taxonomy errors leave this class.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, Literal, cast

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from switchyard.errors import ProviderUnavailable, SwitchyardError, UpstreamProtocolError
from switchyard.formats.openai_chat import (
    chunks_from_openai,
    embedding_request_to_openai,
    embedding_response_from_openai,
    map_openai_error,
    map_openai_error_payload,
    request_to_openai,
    response_from_openai,
)
from switchyard.providers.base import Provider, SettingsT, chunks_from_response
from switchyard.providers.http import HttpClient, HttpReply
from switchyard.providers.http_json import open_stream, reply_json, sse_events
from switchyard.streaming.sse import SseParser
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
_DONE = "[DONE]"


class ChatCompletionsProvider(Provider[SettingsT]):
    """An upstream that speaks OpenAI's chat-completions API at ``base_url``."""

    def __init__(
        self, name: str, settings: SettingsT, *, base_url: str, headers: Mapping[str, str]
    ) -> None:
        super().__init__(name, settings)
        self._http = HttpClient(name, settings)
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._stream_headers = {**self._headers, "accept": "text/event-stream"}

    # -- what a subclass may adjust ---------------------------------------------------------

    def _url(self, operation: Operation, model: str | None) -> str:
        """The URL of ``operation`` (``model`` is the upstream model, when there is one)."""
        return self._base_url + OPERATION_PATHS[operation]

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
        reply = await self._post(self._url("chat", request.model), body)
        return response_from_openai(self._read_payload(self._json(reply)), self.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = self._chat_body(request, stream=True)
        async with open_stream(
            self._http,
            self._url("chat", request.model),
            body=orjson.dumps(body),
            headers=self._stream_headers,
            map_error=self._map_error,
        ) as reply:
            if reply.headers.get("content-type", "").startswith("application/json"):
                # A server that ignored ``stream: true`` and answered with one completion.
                payload = self._json(HttpReply(reply.status, reply.headers, await reply.read()))
                response = response_from_openai(self._read_payload(payload), self.name)
                for chunk in chunks_from_response(response):
                    yield chunk
                return
            chunks = cast(AsyncGenerator[bytes, None], reply.chunks())
            parser = SseParser()
            try:
                async for data in chunks:
                    for event in sse_events(parser, data, self.name):
                        if event.data == _DONE:
                            return
                        for chunk in self._chunks(event.event, event.data):
                            yield chunk
                for event in sse_events(parser, None, self.name):
                    if event.data == _DONE:
                        return
                    for chunk in self._chunks(event.event, event.data):
                        yield chunk
            finally:
                await chunks.aclose()
        raise ProviderUnavailable("stream ended early (no [DONE])", provider=self.name)

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        body = self._embedding_body(request)
        reply = await self._post(self._url("embeddings", request.model), body)
        return embedding_response_from_openai(self._json(reply), self.name)

    async def list_models(self) -> list[str]:
        """Model ids from ``GET /models``: OpenAI's ``{"data": [...]}``, or the bare array some
        compatible services (Together) answer with."""
        reply = await self._http.request("GET", self._url("models", None), headers=self._headers)
        payload = reply_json(reply, self._map_error, self.name)
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

    async def health_check(self) -> None:
        if self.capabilities.list_models:
            await self.list_models()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------

    async def _post(self, url: str, body: dict[str, Any]) -> HttpReply:
        return await self._http.request("POST", url, body=orjson.dumps(body), headers=self._headers)

    def _json(self, reply: HttpReply) -> dict[str, Any]:
        """The reply's JSON object, or the taxonomy error its status or content means."""
        payload = reply_json(reply, self._map_error, self.name)
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("upstream reply is not a JSON object", provider=self.name)
        if "error" in payload and "choices" not in payload and "data" not in payload:
            raise self._map_error_payload(payload)
        return payload

    def _chunks(self, event: str | None, data: str) -> list[ChatChunk]:
        if not data:
            return []
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if event == "error":
                raise self._map_error_payload({"error": data}) from exc
            raise UpstreamProtocolError(
                f"upstream sent a malformed stream chunk: {data[:200]!r}", provider=self.name
            ) from exc
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("stream chunk is not a JSON object", provider=self.name)
        if event == "error" or "error" in payload:
            raise self._map_error_payload(payload)
        try:
            return chunks_from_openai(self._read_payload(payload))
        except UpstreamProtocolError as exc:
            exc.provider = exc.provider or self.name
            raise


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _ModelList(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Model]


__all__ = ["OPERATION_PATHS", "ChatCompletionsProvider", "Operation"]
