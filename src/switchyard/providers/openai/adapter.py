"""The ``openai`` adapter: OpenAI and every OpenAI-compatible server behind one ``base_url``.

Translation is :mod:`switchyard.formats.openai_chat`; this module only does I/O: it sends with
the provider's :class:`HttpClient`, maps every non-2xx reply through ``map_openai_error`` and
every unreadable one to ``UpstreamProtocolError``, so only taxonomy errors leave it.

Streams are SSE (``data: {chunk}`` ... ``data: [DONE]``). An upstream error status is raised
before anything is yielded, so the gateway can still fail over; an ``{"error": ...}`` event
mid-stream raises the mapped error; a stream that ends without ``[DONE]`` raises
``ProviderUnavailable``. The connection is released however the stream ends, also when the
consumer stops early and closes the generator.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, ClassVar, cast

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from switchyard.errors import ProviderUnavailable, UpstreamProtocolError
from switchyard.formats.openai_chat import (
    chunks_from_openai,
    embedding_request_to_openai,
    embedding_response_from_openai,
    map_openai_error,
    map_openai_error_payload,
    request_to_openai,
    response_from_openai,
)
from switchyard.providers.base import Capabilities, Provider
from switchyard.providers.http import HttpClient, HttpReply, StreamingReply
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.streaming.sse import SseEvent, SseParser
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ToolCallDelta,
)

_DEFAULT_BASE_URL = "https://api.openai.com/v1"
_DONE = "[DONE]"


class OpenAIProvider(Provider[OpenAISettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
    )

    def __init__(self, name: str, settings: OpenAISettings) -> None:
        super().__init__(name, settings)
        self._http = HttpClient(name, settings.timeout)
        self._base_url = (settings.base_url or _DEFAULT_BASE_URL).rstrip("/")
        self._max_tokens_field = settings.resolved_max_tokens_field()
        self._headers = _headers(settings)
        self._stream_headers = {**self._headers, "accept": "text/event-stream"}

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = request_to_openai(request, stream=False, max_tokens_field=self._max_tokens_field)
        reply = await self._post("/chat/completions", body)
        return response_from_openai(self._json(reply), self.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = request_to_openai(request, stream=True, max_tokens_field=self._max_tokens_field)
        async with self._http.stream(
            "POST",
            self._base_url + "/chat/completions",
            body=orjson.dumps(body),
            headers=self._stream_headers,
        ) as reply:
            if not 200 <= reply.status < 300:
                raise map_openai_error(reply.status, reply.headers, await _read(reply), self.name)
            if reply.headers.get("content-type", "").startswith("application/json"):
                # A server that ignored ``stream: true`` and answered with one completion.
                payload = self._json(HttpReply(reply.status, reply.headers, await _read(reply)))
                for chunk in _chunks_from_response(response_from_openai(payload, self.name)):
                    yield chunk
                return
            chunks = cast(AsyncGenerator[bytes, None], reply.chunks())
            parser = SseParser()
            try:
                async for data in chunks:
                    for event in self._feed(parser, data):
                        if event.data == _DONE:
                            return
                        for chunk in self._chunks(event.event, event.data):
                            yield chunk
                for event in parser.finish():
                    if event.data == _DONE:
                        return
                    for chunk in self._chunks(event.event, event.data):
                        yield chunk
            finally:
                await chunks.aclose()
        raise ProviderUnavailable("stream ended early (no [DONE])", provider=self.name)

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        reply = await self._post("/embeddings", embedding_request_to_openai(request))
        return embedding_response_from_openai(self._json(reply), self.name)

    async def list_models(self) -> list[str]:
        reply = await self._http.request("GET", self._base_url + "/models", headers=self._headers)
        try:
            models = _ModelList.model_validate(self._json(reply))
        except ValidationError as exc:
            raise UpstreamProtocolError(
                "malformed model list from upstream", provider=self.name
            ) from exc
        return [model.id for model in models.data]

    async def health_check(self) -> None:
        await self.list_models()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any]) -> HttpReply:
        return await self._http.request(
            "POST", self._base_url + path, body=orjson.dumps(body), headers=self._headers
        )

    def _json(self, reply: HttpReply) -> dict[str, Any]:
        """The reply's JSON object, or the taxonomy error its status or content means."""
        if not 200 <= reply.status < 300:
            raise map_openai_error(reply.status, reply.headers, reply.body, self.name)
        try:
            payload = orjson.loads(reply.body)
        except orjson.JSONDecodeError as exc:
            raise UpstreamProtocolError(
                f"upstream sent malformed JSON: {exc}", provider=self.name
            ) from exc
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("upstream reply is not a JSON object", provider=self.name)
        if "error" in payload and "choices" not in payload and "data" not in payload:
            raise map_openai_error_payload(payload, self.name)
        return payload

    def _feed(self, parser: SseParser, data: bytes) -> list[SseEvent]:
        try:
            return parser.feed(data)
        except UnicodeDecodeError as exc:
            raise UpstreamProtocolError("upstream stream is not UTF-8", provider=self.name) from exc

    def _chunks(self, event: str | None, data: str) -> list[ChatChunk]:
        if not data:
            return []
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if event == "error":
                raise map_openai_error_payload({"error": data}, self.name) from exc
            raise UpstreamProtocolError(
                f"upstream sent a malformed stream chunk: {data[:200]!r}", provider=self.name
            ) from exc
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("stream chunk is not a JSON object", provider=self.name)
        if event == "error" or "error" in payload:
            raise map_openai_error_payload(payload, self.name)
        try:
            return chunks_from_openai(payload)
        except UpstreamProtocolError as exc:
            exc.provider = exc.provider or self.name
            raise


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _ModelList(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[_Model]


def _headers(settings: OpenAISettings) -> dict[str, str]:
    headers = {"content-type": "application/json", "accept": "application/json"}
    api_key = settings.api_key_value()
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    if settings.organization:
        headers["openai-organization"] = settings.organization
    if settings.project:
        headers["openai-project"] = settings.project
    for name, value in settings.headers.items():  # configured headers win, whatever their case
        headers[name.lower()] = value
    return headers


async def _read(reply: StreamingReply) -> bytes:
    return b"".join([piece async for piece in reply.chunks()])


def _chunks_from_response(response: ChatResponse) -> list[ChatChunk]:
    """A whole completion as the chunks a stream of it would have carried."""
    chunks: list[ChatChunk] = []
    for choice in response.choices:
        message = choice.message
        calls = message.tool_calls or []
        chunks.append(
            ChatChunk(
                id=response.id,
                created=response.created,
                model=response.model,
                index=choice.index,
                role="assistant",
                text=message.text() if message.content is not None else None,
                reasoning=message.reasoning,
                refusal=message.refusal,
                tool_calls=[
                    ToolCallDelta(index=n, id=call.id, name=call.name, arguments=call.arguments)
                    for n, call in enumerate(calls)
                ]
                or None,
                finish_reason=choice.finish_reason,
            )
        )
    chunks[-1].usage = response.usage
    return chunks


__all__ = ["OpenAIProvider"]
