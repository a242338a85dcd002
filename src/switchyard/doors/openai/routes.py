"""The OpenAI-compatible front door: ``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``.

Requests and replies are translated by :mod:`switchyard.formats.openai_chat` (the same codec the
``openai`` adapter uses), the chat route is every door's (:class:`~switchyard.doors.chat.ChatDoor`),
errors are rendered in OpenAI's error JSON with the matching status, so
the official ``openai`` SDK raises its own typed exceptions against us.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.chat_stream import ChatStream
from switchyard.doors.chat import JSON, ChatDoor
from switchyard.doors.http import (
    ClientDisconnected,
    RequestContext,
    check_model_name,
    json_error,
    new_context,
    principal_of,
    read_json,
    unless_disconnected,
)
from switchyard.doors.sse import Framing
from switchyard.errors import SwitchyardError
from switchyard.formats.openai_chat import (
    chunk_to_openai_payloads,
    embedding_request_from_openai,
    embedding_response_to_openai,
    error_to_openai,
    request_from_openai,
    response_to_openai,
)
from switchyard.types import ChatChunk, ChatRequest, ChatResponse, Principal


class OpenAIDoor(ChatDoor):
    stream_name = "a chat completions stream"

    def chat_request(self, body: dict[str, Any], request: Request) -> ChatRequest:
        return request_from_openai(body)

    def render(self, chat: ChatRequest, response: ChatResponse, context: RequestContext) -> bytes:
        return orjson.dumps(response_to_openai(response))

    def framing(self, chat: ChatRequest, stream: ChatStream, context: RequestContext) -> Framing:
        return _OpenAIFrames(chat.include_usage)

    def error_response(self, error: SwitchyardError, context: RequestContext) -> Response:
        return error_response(error, context)

    async def chat_completions(self, request: Request) -> Response:
        return await self.handle_chat(request)

    async def embeddings(self, request: Request) -> Response:
        context = new_context(request)
        principal: Principal | None = None
        body: dict[str, Any] = {}
        handed = False
        try:
            principal = principal_of(request)
            body = await read_json(request, self.max_body_bytes, self.body_timeout)
            embedding = embedding_request_from_openai(body)
            check_model_name(embedding.model)
            handed = True
            response = await unless_disconnected(
                request, self.gateway.embed(embedding, principal=principal)
            )
        except SwitchyardError as error:
            if not handed and principal is not None:  # refused here: still one usage row
                self.gateway.refused(principal, "embed", body.get("model"), error)
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps(embedding_response_to_openai(response, embedding.encoding_format)),
            media_type=JSON,
            headers=context.headers(response.served_by, response.cost),
        )

    async def models(self, request: Request) -> Response:
        """The models the caller may use; in Anthropic's shape when the request carries
        ``anthropic-version`` (the ``anthropic`` SDK's ``models.list()``)."""
        context = new_context(request)
        try:
            listing = self.gateway.models(principal_of(request))
        except SwitchyardError as error:
            return error_response(error, context)
        if "anthropic-version" in request.headers:
            body = _anthropic_models([m.id for m in listing])
        else:
            data = [
                {"id": m.id, "object": "model", "created": 0, "owned_by": m.owned_by}
                for m in listing
            ]
            body = {"object": "list", "data": data}
        return Response(orjson.dumps(body), media_type=JSON, headers=context.headers())


def _anthropic_models(ids: list[str]) -> dict[str, object]:
    """Anthropic's ``GET /v1/models`` page: every model at once (``has_more`` false)."""
    data = [
        {
            "type": "model",
            "id": model,
            "display_name": model,
            "created_at": "1970-01-01T00:00:00Z",  # unknown: the epoch, as Anthropic allows
            "lifecycle": "active",
        }
        for model in ids
    ]
    return {
        "data": data,
        "has_more": False,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


class _OpenAIFrames:
    """OpenAI's SSE framing: one ``data:`` line per payload, ``[DONE]`` at the end, an error
    payload (then the end of the stream) when the stream fails after its first byte."""

    __slots__ = ("include_usage",)

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage

    def chunk(self, chunk: ChatChunk) -> bytes:
        payloads = chunk_to_openai_payloads(chunk, include_usage=self.include_usage)
        return b"".join(b"data: " + orjson.dumps(p) + b"\n\n" for p in payloads)

    def end(self) -> bytes:
        return b"data: [DONE]\n\n"

    def error(self, error: SwitchyardError) -> bytes:
        return b"data: " + orjson.dumps(error_to_openai(error)) + b"\n\n"


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_openai(error), context)


__all__ = ["OpenAIDoor", "error_response"]
