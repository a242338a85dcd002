"""The OpenAI-compatible front door: ``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``.

Requests and replies are translated by :mod:`switchyard.formats.openai_chat` (the same codec the
``openai`` adapter uses), errors are rendered in OpenAI's error JSON with the matching status, so
the official ``openai`` SDK raises its own typed exceptions against us.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from switchyard.chat_stream import ChatStream
from switchyard.doors.http import (
    Authenticator,
    ClientDisconnected,
    RequestContext,
    new_context,
    read_json,
    unless_disconnected,
)
from switchyard.errors import SwitchyardError
from switchyard.formats.openai_chat import (
    chunk_to_openai_payloads,
    embedding_request_from_openai,
    embedding_response_to_openai,
    error_to_openai,
    request_from_openai,
    response_to_openai,
)
from switchyard.gateway import Gateway

JSON = "application/json"
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class OpenAIDoor:
    def __init__(self, gateway: Gateway, auth: Authenticator, max_body_bytes: int) -> None:
        self.gateway = gateway
        self.auth = auth
        self.max_body_bytes = max_body_bytes

    async def chat_completions(self, request: Request) -> Response:
        context = new_context(request)
        try:
            self.auth.check(request.headers)
            body = await read_json(request, self.max_body_bytes)
            chat = request_from_openai(body)
            if chat.prefer is None:
                chat.prefer = request.headers.get("x-switchyard-prefer")
            if chat.stream:
                return await self._stream(chat.include_usage, self.gateway.stream(chat), context)
            response = await unless_disconnected(request, self.gateway.chat(chat))
        except SwitchyardError as error:
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps(response_to_openai(response)),
            media_type=JSON,
            headers=context.headers(response.served_by),
        )

    async def _stream(
        self, include_usage: bool, stream: ChatStream, context: RequestContext
    ) -> Response:
        await stream.start()  # failover happens here, before any byte is sent
        return StreamingResponse(
            _sse(stream, include_usage),
            media_type="text/event-stream",
            headers={**_SSE_HEADERS, **context.headers(stream.served_by)},
        )

    async def embeddings(self, request: Request) -> Response:
        context = new_context(request)
        try:
            self.auth.check(request.headers)
            body = await read_json(request, self.max_body_bytes)
            embedding = embedding_request_from_openai(body)
            response = await unless_disconnected(request, self.gateway.embed(embedding))
        except SwitchyardError as error:
            return error_response(error, context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps(embedding_response_to_openai(response, embedding.encoding_format)),
            media_type=JSON,
            headers=context.headers(response.served_by),
        )

    async def models(self, request: Request) -> Response:
        context = new_context(request)
        try:
            self.auth.check(request.headers)
        except SwitchyardError as error:
            return error_response(error, context)
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "switchyard"}
            for name in self.gateway.router.aliases
        ]
        seen: set[str] = set()
        for route in self.gateway.router.aliases.values():
            for candidate in route.candidates:
                if candidate.key not in seen:
                    seen.add(candidate.key)
                    owner = candidate.provider.name
                    data.append(
                        {"id": candidate.key, "object": "model", "created": 0, "owned_by": owner}
                    )
        return Response(
            orjson.dumps({"object": "list", "data": data}),
            media_type=JSON,
            headers=context.headers(),
        )


async def _sse(stream: ChatStream, include_usage: bool) -> AsyncIterator[bytes]:
    """OpenAI's SSE framing: one ``data:`` line per chunk, ``[DONE]`` at the end, an ``error``
    event (then the end of the stream) when the upstream breaks after the first byte."""
    try:
        async for chunk in stream:
            for payload in chunk_to_openai_payloads(chunk, include_usage=include_usage):
                yield b"data: " + orjson.dumps(payload) + b"\n\n"
    except SwitchyardError as error:
        yield b"data: " + orjson.dumps(error_to_openai(error)) + b"\n\n"
        return
    finally:
        await stream.aclose()
    yield b"data: [DONE]\n\n"


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    headers = context.headers()
    if error.retry_after is not None:
        headers["retry-after"] = str(max(int(error.retry_after + 0.999), 0))
        headers["retry-after-ms"] = str(int(error.retry_after * 1000))
    return Response(
        orjson.dumps(error_to_openai(error)),
        status_code=error.status_code,
        media_type=JSON,
        headers=headers,
    )


__all__ = ["OpenAIDoor", "error_response"]
