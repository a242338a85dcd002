"""A fake OpenAI server on 127.0.0.1 for tests: real wire format, scripted per test.

It runs an aiohttp server on its own event loop in a background thread, so the same instance
serves async tests (the adapter in the test's loop), a gateway running in a uvicorn thread, and
the synchronous ``openai`` SDK::

    upstream.script(
        Reply.error(429, "slow down", headers={"retry-after": "2"}),
        Reply.stream([chunk1, chunk2], chunk_delay=0.01),     # dicts are JSON-encoded
        Reply.from_cassette(load_cassette("chat-tools")),
    )
    provider = OpenAIProvider("openai", OpenAISettings(base_url=upstream.base_url, api_key="k"))
    ...
    assert upstream.requests[0].json["model"] == "gpt-4o-mini"

Each request takes the next scripted :class:`Reply`, in order, whatever its path; when none is
left it gets a default built from the recorded OpenAI payloads: a chat completion echoing the
last user message (streamed when asked, with a usage chunk when ``include_usage``), embeddings
or the model list. Every request is recorded in :attr:`OpenAIUpstream.requests`.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import itertools
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.cassettes import Cassette, load_cassette


@dataclass
class Reply:
    """One scripted answer.

    ``body`` (JSON) or ``raw`` (bytes as they are) or ``sse`` (``data:`` payloads, sent one
    event each, ``chunk_delay`` seconds apart). ``delay`` waits before anything is sent.
    ``cut_after`` drops the connection after that many SSE events (0: before any reply).
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None
    sse: list[str] | None = None
    chunk_delay: float = 0.0
    cut_after: int | None = None
    delay: float = 0.0
    content_type: str | None = None

    @classmethod
    def json(
        cls,
        body: Any,
        status: int = 200,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        return cls(status=status, headers=headers or {}, body=body, delay=delay)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "scripted error",
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """An OpenAI error body: ``{"error": {message, type, param, code}}``."""
        body = {"error": {"message": message, "type": type, "param": param, "code": code}}
        return cls(status=status, headers=headers or {}, body=body)

    @classmethod
    def stream(
        cls,
        events: Iterable[str | dict[str, Any]],
        *,
        done: bool = True,
        chunk_delay: float = 0.0,
        cut_after: int | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An SSE reply; dict events are JSON-encoded and ``[DONE]`` is appended when ``done``."""
        data = [
            event if isinstance(event, str) else orjson.dumps(event).decode() for event in events
        ]
        if done:
            data.append("[DONE]")
        return cls(sse=data, chunk_delay=chunk_delay, cut_after=cut_after, delay=delay)

    @classmethod
    def raw_bytes(
        cls, data: bytes, status: int = 200, *, content_type: str = "application/json"
    ) -> Reply:
        return cls(status=status, raw=data, content_type=content_type)

    @classmethod
    def from_cassette(cls, cassette: Cassette, **overrides: Any) -> Reply:
        """The recorded reply: its status, content type and exact body (SSE events for a
        stream). ``overrides`` set other fields (``chunk_delay``, ``cut_after``, ...)."""
        if cassette.is_stream:
            reply = cls(status=cassette.status, sse=cassette.sse_data)
        else:
            reply = cls(
                status=cassette.status,
                raw=cassette.response_body.encode(),
                content_type=cassette.content_type or "application/json",
            )
        for key, value in overrides.items():
            setattr(reply, key, value)
        return reply


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any
    completed: bool = False
    disconnected: bool = False


class OpenAIUpstream:
    """The fake server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What an ``openai`` provider's ``base_url`` should be: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> OpenAIUpstream:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fake-openai", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        loop, runner = self._loop, self._runner
        if loop is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> OpenAIUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner

    # -- scripting ----------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        return len(self._script)

    def reset(self) -> None:
        self._script.clear()
        self.requests.clear()

    @property
    def last_request(self) -> RecordedRequest:
        return self.requests[-1]

    async def wait_for(self, condition: Callable[[], bool], within: float = 2.0) -> None:
        """Poll ``condition`` (for what happens on the server's side) until true or fail."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met on the fake upstream in time")
            await asyncio.sleep(0.005)

    # -- serving ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            parsed = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers={key.lower(): value for key, value in request.headers.items()},
            body=body,
            json=parsed,
        )
        self.requests.append(record)
        reply = self._script.popleft() if self._script else self._default(request, parsed)
        try:
            response = await self._send(request, reply)
        except (asyncio.CancelledError, ConnectionResetError):
            record.disconnected = True
            raise
        record.completed = True
        return response

    async def _send(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.cut_after == 0 and reply.sse is None:
            _cut(request)
            raise ConnectionResetError("scripted cut before the reply")
        headers = dict(reply.headers)
        if reply.sse is None:
            if reply.raw is not None:
                data = reply.raw
                headers.setdefault("content-type", reply.content_type or "application/json")
            else:
                data = orjson.dumps(reply.body)
                headers.setdefault("content-type", "application/json")
            return web.Response(status=reply.status, body=data, headers=headers)
        headers.setdefault("content-type", "text/event-stream; charset=utf-8")
        response = web.StreamResponse(status=reply.status, headers=headers)
        await response.prepare(request)
        for n, data_line in enumerate(reply.sse):
            if reply.cut_after is not None and n >= reply.cut_after:
                _cut(request)
                raise ConnectionResetError("scripted cut mid-stream")
            if reply.chunk_delay and n:
                await asyncio.sleep(reply.chunk_delay)
            await response.write(f"data: {data_line}\n\n".encode())
        await response.write_eof()
        return response

    # -- defaults -----------------------------------------------------------------------------

    def _default(self, request: web.Request, body: Any) -> Reply:
        path = request.path
        body = body if isinstance(body, dict) else {}
        if path.endswith("/chat/completions") and request.method == "POST":
            return self._default_chat(body)
        if path.endswith("/embeddings") and request.method == "POST":
            return Reply.json(_default_embeddings(body))
        if path.endswith("/models") and request.method == "GET":
            return Reply.json(_MODELS)
        return Reply.error(404, f"Invalid URL ({request.method} {path})", code="unknown_url")

    def _default_chat(self, body: dict[str, Any]) -> Reply:
        text = _last_user_text(body.get("messages"))
        model = str(body.get("model", "gpt-4o-mini"))
        completion_id = f"chatcmpl-fake{next(self._ids)}"
        usage = _usage(body, text)
        if not body.get("stream"):
            response = copy.deepcopy(load_cassette("chat-basic").response_json)
            response.update(id=completion_id, model=model, usage=usage)
            response["choices"][0]["message"]["content"] = text
            return Reply.json(response)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        envelope: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": 1755137933,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": None,
        }
        if include_usage:
            envelope["usage"] = None

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return {**envelope, "choices": [choice]}

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": piece}) for piece in _pieces(text)]
        events.append(chunk({}, "stop"))
        if include_usage:
            events.append({**envelope, "choices": [], "usage": usage})
        return Reply.stream(events)


_MODELS: dict[str, Any] = {
    "object": "list",
    "data": [
        {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
        {"id": "gpt-5-nano", "object": "model", "created": 1754426384, "owned_by": "system"},
        {
            "id": "text-embedding-3-small",
            "object": "model",
            "created": 1705948997,
            "owned_by": "system",
        },
    ],
}


def _cut(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


def _last_user_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _pieces(text: str) -> list[str]:
    """Word-sized pieces (each but the first starting with its space) that join to ``text``."""
    words = text.split(" ")
    return [words[0], *(" " + word for word in words[1:])] if text else []


def _usage(body: dict[str, Any], reply: str) -> dict[str, Any]:
    prompt = sum(len(_last_user_text([m]).split()) for m in body.get("messages") or [])
    completion = len(reply.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _default_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("input", "")
    texts = [raw] if isinstance(raw, str) else [str(item) for item in raw]
    dimensions = body.get("dimensions") or 8
    base64_format = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = embedding_for(text, dimensions)
        encoded: Any = (
            base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            if base64_format
            else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(len(text.split()) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model", "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def embedding_for(text: str, dimensions: int = 8) -> list[float]:
    """The fake's deterministic vector for ``text`` (exactly representable as float32)."""
    digest = hashlib.sha256(text.encode()).digest()
    return [(digest[i % len(digest)] - 128) / 128 for i in range(dimensions)]


__all__ = ["OpenAIUpstream", "RecordedRequest", "Reply", "embedding_for"]
