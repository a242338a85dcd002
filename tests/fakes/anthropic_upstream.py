"""A fake Anthropic Messages API on 127.0.0.1, and builders for its wire payloads.

Payload shapes follow Anthropic's API reference: the ``Message`` object and ``POST
/v1/messages`` (https://platform.claude.com/docs/en/api/messages), the streaming events
(https://platform.claude.com/docs/en/build-with-claude/streaming), the error shape and statuses
(https://platform.claude.com/docs/en/api/errors) and ``GET /v1/models``
(https://platform.claude.com/docs/en/api/models-list)::

    upstream.script(
        Reply.json(message([text_block("Paris.")], usage=usage(12, 3))),
        stream_reply([message_start(), block_start(0, text_block("")), text_delta(0, "Hi"),
                      block_stop(0), message_delta("end_turn", 2), message_stop()]),
        error_reply(529, "overloaded_error", "Overloaded"),
    )

With nothing scripted, ``POST /v1/messages`` echoes the last user text (streamed when asked)
and ``GET /v1/models`` lists two models.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.upstream import FakeUpstream, RecordedRequest, Reply, word_pieces

MODEL = "claude-sonnet-4-5-20250929"
Event = tuple[str, dict[str, Any]]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


class AnthropicUpstream(FakeUpstream):
    """Answers like Anthropic's API when nothing is scripted; ``base_url`` is the host root,
    as an ``anthropic`` provider's ``base_url`` is."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    def _default(self, request: web.Request, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        if request.path == "/v1/messages" and request.method == "POST":
            return self._echo(body)
        if request.path == "/v1/models" and request.method == "GET":
            return Reply.json(models_page([MODEL, "claude-haiku-4-5-20251001"]))
        return error_reply(404, "not_found_error", f"Not found: {request.method} {request.path}")

    def _echo(self, body: dict[str, Any]) -> Reply:
        text = last_user_text(body.get("messages"))
        model = str(body.get("model", MODEL))
        message_id = f"msg_fake{next(self._ids):04d}"
        words = text.split(" ") if text else []
        used = usage(max(len(words), 1), max(len(words), 1))
        if not body.get("stream"):
            return Reply.json(message([text_block(text)], id=message_id, model=model, usage=used))
        pieces = word_pieces(text)
        events = [
            message_start(id=message_id, model=model, input_tokens=used["input_tokens"]),
            block_start(0, text_block("")),
            ping(),
            *(text_delta(0, piece) for piece in pieces),
            block_stop(0),
            message_delta("end_turn", used["output_tokens"]),
            message_stop(),
        ]
        return stream_reply(events)


# -- bodies -------------------------------------------------------------------------------------


def usage(
    input_tokens: int = 25,
    output_tokens: int = 1,
    *,
    cache_creation: int = 0,
    cache_read: int = 0,
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache_creation,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(id: str, name: str, input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def thinking_block(
    thinking: str, signature: str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"
) -> dict[str, Any]:
    return {"type": "thinking", "thinking": thinking, "signature": signature}


def message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str | None = "end_turn",
    usage: dict[str, Any] | None = None,
    id: str = "msg_01XFDUDYJgAACzvnptvVoYEL",
    model: str = MODEL,
) -> dict[str, Any]:
    """A ``Message`` object, as ``POST /v1/messages`` answers."""
    return {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage if usage is not None else _default_usage(),
    }


def _default_usage() -> dict[str, Any]:
    return usage()


def raw_message_reply(body: dict[str, Any], raw_inputs: dict[int, str]) -> Reply:
    """``body`` sent as bytes, with ``content[i].input`` written as the exact text
    ``raw_inputs[i]`` (spacing and escapes as given)."""
    content = [dict(block) for block in body["content"]]
    for position in raw_inputs:
        content[position]["input"] = f"@@raw-input-{position}@@"
    data = orjson.dumps({**body, "content": content}).decode()
    for position, raw in raw_inputs.items():
        data = data.replace(f'"@@raw-input-{position}@@"', raw)
    return Reply.raw_bytes(data.encode())


def error_body(kind: str, text: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": kind, "message": text},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }


def error_reply(
    status: int, kind: str, text: str, *, headers: dict[str, str] | None = None
) -> Reply:
    return Reply.json(error_body(kind, text), status, headers=headers)


def models_page(ids: list[str], *, has_more: bool = False) -> dict[str, Any]:
    data = [
        {
            "type": "model",
            "id": model_id,
            "display_name": model_id.replace("-", " ").title(),
            "created_at": "2025-09-29T00:00:00Z",
        }
        for model_id in ids
    ]
    return {
        "data": data,
        "has_more": has_more,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


# -- stream events ------------------------------------------------------------------------------


def stream_reply(events: list[Event], **options: Any) -> Reply:
    """Named SSE events (``event: <type>`` then ``data: {...}``), no ``[DONE]``."""
    return Reply.stream(events, done=False, **options)


def message_start(
    *,
    id: str = "msg_014p7gG3wDgGV9EUtLvnow3U",
    model: str = MODEL,
    input_tokens: int = 25,
    cache_creation: int = 0,
    cache_read: int = 0,
) -> Event:
    start = message([], stop_reason=None, id=id, model=model)
    start["usage"] = usage(input_tokens, 1, cache_creation=cache_creation, cache_read=cache_read)
    return "message_start", {"type": "message_start", "message": start}


def block_start(index: int, block: dict[str, Any]) -> Event:
    return "content_block_start", {
        "type": "content_block_start",
        "index": index,
        "content_block": block,
    }


def _delta(index: int, delta: dict[str, Any]) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def text_delta(index: int, text: str) -> Event:
    return _delta(index, {"type": "text_delta", "text": text})


def json_delta(index: int, partial_json: str) -> Event:
    return _delta(index, {"type": "input_json_delta", "partial_json": partial_json})


def thinking_delta(index: int, thinking: str) -> Event:
    return _delta(index, {"type": "thinking_delta", "thinking": thinking})


def signature_delta(index: int, signature: str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h") -> Event:
    return _delta(index, {"type": "signature_delta", "signature": signature})


def block_stop(index: int) -> Event:
    return "content_block_stop", {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str | None, output_tokens: int, **usage_fields: int) -> Event:
    return "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": output_tokens, **usage_fields},
    }


def message_stop() -> Event:
    return "message_stop", {"type": "message_stop"}


def ping() -> Event:
    return "ping", {"type": "ping"}


def error_event(kind: str = "overloaded_error", text: str = "Overloaded") -> Event:
    return "error", {"type": "error", "error": {"type": kind, "message": text}}


# -- reading what the adapter sent ----------------------------------------------------------


def last_user_text(messages: Any) -> str:
    for entry in reversed(messages if isinstance(messages, list) else []):
        if isinstance(entry, dict) and entry.get("role") == "user":
            return content_text(entry.get("content"))
    return ""


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block.get("text", "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


def system_text(request: RecordedRequest) -> str:
    return content_text(request.json.get("system"))


__all__ = [
    "ERROR_TYPES",
    "MODEL",
    "AnthropicUpstream",
    "Event",
    "RecordedRequest",
    "Reply",
    "block_start",
    "block_stop",
    "content_text",
    "error_body",
    "error_event",
    "error_reply",
    "json_delta",
    "last_user_text",
    "message",
    "message_delta",
    "message_start",
    "message_stop",
    "models_page",
    "ping",
    "raw_message_reply",
    "signature_delta",
    "stream_reply",
    "system_text",
    "text_block",
    "text_delta",
    "thinking_block",
    "thinking_delta",
    "tool_use_block",
    "usage",
]
