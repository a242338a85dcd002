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

import base64
import copy
import hashlib
import itertools
import struct
from typing import Any

from aiohttp import web

from tests.fakes.cassettes import load_cassette
from tests.fakes.upstream import FakeUpstream, RecordedRequest, Reply, word_pieces


class OpenAIUpstream(FakeUpstream):
    """Answers like OpenAI's API when nothing is scripted."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """What an ``openai`` provider's ``base_url`` should be: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

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
        text = last_user_text(body.get("messages"))
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
        events += [chunk({"content": piece}) for piece in word_pieces(text)]
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


def last_user_text(messages: Any) -> str:
    """The text of the last user message of an OpenAI-shaped ``messages`` list."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _usage(body: dict[str, Any], reply: str) -> dict[str, Any]:
    prompt = sum(len(last_user_text([m]).split()) for m in body.get("messages") or [])
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
