"""A fake OpenAI Responses API (``POST /v1/responses``) on 127.0.0.1, and builders for its wire
payloads.

Shapes follow OpenAI's API reference for the ``Response`` object and its streaming events
(https://platform.openai.com/docs/api-reference/responses and
.../responses-streaming): ``response.created``, ``response.in_progress``,
``response.output_item.added``, ``response.content_part.added``,
``response.output_text.delta``/``.done``, ``response.content_part.done``,
``response.function_call_arguments.delta``/``.done``, ``response.output_item.done``,
``response.completed``, each with ``sequence_number``::

    upstream.script(
        Reply.json(response([message_item("Paris.")], usage=usage(12, 3))),
        stream_reply(text_events("Hi there")),
    )

With nothing scripted, ``POST /v1/responses`` echoes the last user text (streamed when asked);
everything else is the OpenAI fake's (chat completions, embeddings, models).
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply, word_pieces

MODEL = "gpt-5-2025-08-07"
Event = tuple[str, dict[str, Any]]


class ResponsesUpstream(OpenAIUpstream):
    """OpenAI's API with its Responses endpoint; ``base_url`` ends in ``/v1``."""

    def __init__(self) -> None:
        super().__init__()
        self._response_ids = itertools.count(1)

    def _default(self, request: web.Request, body: Any) -> Reply:
        if request.path.endswith("/responses") and request.method == "POST":
            body = body if isinstance(body, dict) else {}
            text = last_user_text(body.get("input"))
            model = str(body.get("model", MODEL))
            response_id = f"resp_fake{next(self._response_ids):04d}"
            used = usage(max(len(text.split()), 1), max(len(text.split()), 1))
            item = message_item(text, id=f"msg_fake{response_id[-4:]}")
            if body.get("stream"):
                return stream_reply(text_events(text, id=response_id, model=model, used=used))
            return Reply.json(response([item], id=response_id, model=model, usage=used))
        return super()._default(request, body)


def last_user_text(items: Any) -> str:
    if isinstance(items, str):
        return items
    for item in reversed(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            return "".join(
                part.get("text", "")
                for part in content or []
                if isinstance(part, dict) and part.get("type") == "input_text"
            )
    return ""


# -- bodies -----------------------------------------------------------------------------------


def usage(
    input_tokens: int = 20, output_tokens: int = 5, *, cached: int = 0, reasoning: int = 0
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def message_item(
    text: str, *, id: str = "msg_67ccd3acc8d48190a77525dc6de64b4104becb25c45c1d41"
) -> dict[str, Any]:
    return {
        "type": "message",
        "id": id,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def function_call_item(
    call_id: str, name: str, arguments: str, *, id: str = "fc_67ccd3acc8d48190a77525dc6de64b41"
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def reasoning_item(
    summary: str, encrypted: str | None = None, *, id: str = "rs_67ccd3a9da748190baa7f1570b3c"
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": id,
        "summary": [{"type": "summary_text", "text": summary}] if summary else [],
    }
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


def response(
    output: list[dict[str, Any]],
    *,
    id: str = "resp_67ccd3a9da748190baa7f1570bf6d0c4",
    model: str = MODEL,
    status: str = "completed",
    usage: dict[str, Any] | None = None,
    incomplete: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``Response`` object, as ``POST /v1/responses`` answers."""
    return {
        "id": id,
        "object": "response",
        "created_at": 1741476777,
        "status": status,
        "error": error,
        "incomplete_details": None if incomplete is None else {"reason": incomplete},
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


# -- streams ----------------------------------------------------------------------------------


def stream_reply(events: list[Event], **options: Any) -> Reply:
    """The events as OpenAI sends them: ``event: <type>`` and its JSON, numbered in order,
    without a ``[DONE]``."""
    numbered = [
        (name, {**payload, "sequence_number": n}) for n, (name, payload) in enumerate(events)
    ]
    return Reply.stream(numbered, done=False, **options)


def _event(kind: str, **fields: Any) -> Event:
    return kind, {"type": kind, **fields}


def started(id: str, model: str = MODEL) -> list[Event]:
    snapshot = {**response([], id=id, model=model, status="in_progress")}
    return [
        _event("response.created", response=snapshot),
        _event("response.in_progress", response=snapshot),
    ]


def completed(
    id: str, output: list[dict[str, Any]], usage: dict[str, Any], model: str = MODEL, **kw: Any
) -> Event:
    status = kw.pop("status", "completed")
    return _event(
        f"response.{status}",
        response=response(output, id=id, model=model, usage=usage, status=status, **kw),
    )


def message_events(text: str, index: int, item_id: str) -> list[Event]:
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    added = {**message_item("", id=item_id), "status": "in_progress", "content": []}
    return [
        _event("response.output_item.added", output_index=index, item=added),
        _event("response.content_part.added", **where, part=empty),
        *(
            _event("response.output_text.delta", **where, delta=piece, logprobs=[])
            for piece in word_pieces(text)
        ),
        _event("response.output_text.done", **where, text=text, logprobs=[]),
        _event("response.content_part.done", **where, part={**empty, "text": text}),
        _event(
            "response.output_item.done", output_index=index, item=message_item(text, id=item_id)
        ),
    ]


def call_events(item: dict[str, Any], index: int, pieces: list[str]) -> list[Event]:
    where = {"item_id": item["id"], "output_index": index}
    return [
        _event(
            "response.output_item.added",
            output_index=index,
            item={**item, "arguments": "", "status": "in_progress"},
        ),
        *(_event("response.function_call_arguments.delta", **where, delta=p) for p in pieces),
        _event(
            "response.function_call_arguments.done",
            **where,
            name=item["name"],
            arguments=item["arguments"],
        ),
        _event("response.output_item.done", output_index=index, item=item),
    ]


def reasoning_events(item: dict[str, Any], index: int) -> list[Event]:
    text = "".join(part["text"] for part in item["summary"])
    where = {"item_id": item["id"], "output_index": index, "summary_index": 0}
    return [
        _event("response.output_item.added", output_index=index, item={**item, "summary": []}),
        _event(
            "response.reasoning_summary_part.added",
            **where,
            part={"type": "summary_text", "text": ""},
        ),
        _event("response.reasoning_summary_text.delta", **where, delta=text),
        _event("response.reasoning_summary_text.done", **where, text=text),
        _event(
            "response.reasoning_summary_part.done",
            **where,
            part={"type": "summary_text", "text": text},
        ),
        _event("response.output_item.done", output_index=index, item=item),
    ]


def text_events(
    text: str, *, id: str = "resp_fake", model: str = MODEL, used: dict[str, Any] | None = None
) -> list[Event]:
    """A whole streamed text answer."""
    item_id = f"msg_{id}"
    return [
        *started(id, model),
        *message_events(text, 0, item_id),
        completed(id, [message_item(text, id=item_id)], used or usage(), model),
    ]


__all__ = [
    "MODEL",
    "ResponsesUpstream",
    "call_events",
    "completed",
    "function_call_item",
    "last_user_text",
    "message_events",
    "message_item",
    "reasoning_events",
    "reasoning_item",
    "response",
    "started",
    "stream_reply",
    "text_events",
    "usage",
]
