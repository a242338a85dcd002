"""The playground's stream: a chat through :meth:`Gateway.stream` with the session's
principal, relayed as server-sent events (``chunk``, then ``done`` or ``error``).

``POST /ui/playground/stream`` with ``{"model", "prompt"}`` and the session's CSRF token in
``x-csrf-token``. A refusal before the first chunk (model not allowed, limits, every deployment
down) is an HTTP error with the message; a failure mid-way ends the stream with an ``error``
event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from switchyard.chat_stream import ChatStream
from switchyard.doors.ui.visit import Visit
from switchyard.errors import InvalidRequest, SwitchyardError
from switchyard.gateway import Gateway

MAX_PROMPT = 32_000  # characters
SSE_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


def chat_request(body: dict[str, Any]) -> dict[str, Any]:
    """The canonical request a playground form asks for, or 400 naming the field."""
    model, prompt = body.get("model"), body.get("prompt")
    if not isinstance(model, str) or not model or len(model) > 256:
        raise InvalidRequest("model: choose one of the models listed", param="model")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("prompt: write something to send", param="prompt")
    if len(prompt) > MAX_PROMPT:
        raise InvalidRequest(f"prompt: at most {MAX_PROMPT} characters", param="prompt")
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True}


async def open_stream(gateway: Gateway, visit: Visit, body: dict[str, Any]) -> StreamingResponse:
    stream = gateway.stream(chat_request(body), principal=visit.principal)
    try:
        await stream.start()  # failover happens here, before any byte is sent
    except BaseException:
        await stream.aclose()
        raise
    return StreamingResponse(_events(stream), media_type="text/event-stream", headers=SSE_HEADERS)


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _events(stream: ChatStream) -> AsyncIterator[bytes]:
    cost: str | None = None
    try:
        async for chunk in stream:
            if chunk.text:
                yield _event("chunk", {"text": chunk.text})
            if chunk.cost is not None:
                cost = f"{chunk.cost.total:.8f}"
        served = stream.served_by
        where = None if served is None else f"{served.provider}/{served.model}"
        yield _event("done", {"served_by": where, "cost_usd": cost})
    except SwitchyardError as error:
        yield _event("error", {"message": error.message, "code": error.code})
    finally:
        await stream.aclose()


__all__ = ["chat_request", "open_stream"]
