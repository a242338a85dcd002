"""A fake Cohere v2 server on 127.0.0.1 for tests: Cohere's wire format, scripted per test.

Payload builders follow Cohere's API reference: ``POST /v2/chat`` replies
(https://docs.cohere.com/reference/chat), the v2 stream events as SSE with their event names
(https://docs.cohere.com/reference/chat-stream, .../v2/docs/streaming,
.../v2/docs/tool-use-streaming), ``POST /v2/embed`` (.../reference/embed), ``GET /v1/models``
(.../reference/list-models) and the ``{"message": ...}`` error body (.../reference/errors).
With nothing scripted, chat echoes the last user message (streamed when asked).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.openai_upstream import embedding_for, last_user_text
from tests.fakes.upstream import FakeUpstream, RecordedRequest, Reply, word_pieces

CHAT_ID = "c14c80c3-18eb-4519-9460-6c92edd8cfb4"


def usage(
    input_tokens: int = 11, output_tokens: int = 7, cached: int | None = None
) -> dict[str, Any]:
    """``usage`` as Cohere reports it: billed units exclude the prompt template's tokens."""
    out: dict[str, Any] = {
        "billed_units": {"input_tokens": max(input_tokens - 5, 0), "output_tokens": output_tokens},
        "tokens": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    if cached is not None:
        out["cached_tokens"] = cached
    return out


def chat_reply(
    message: dict[str, Any], finish: str = "COMPLETE", used: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": CHAT_ID,
        "finish_reason": finish,
        "message": {"role": "assistant", **message},
        "usage": used if used is not None else usage(),
    }


def text_reply(text: str, used: dict[str, Any] | None = None) -> dict[str, Any]:
    return chat_reply({"content": [{"type": "text", "text": text}]}, used=used)


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """One SSE event: ``event: <kind>`` and a ``data`` object whose ``type`` is ``kind``."""
    return kind, {"type": kind, **fields}


def message_start() -> tuple[str, dict[str, Any]]:
    return event(
        "message-start",
        id=CHAT_ID,
        delta={
            "message": {
                "role": "assistant",
                "content": [],
                "tool_plan": "",
                "tool_calls": [],
                "citations": [],
            }
        },
    )


def message_end(finish: str, used: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    return event(
        "message-end",
        delta={"finish_reason": finish, "usage": used if used is not None else usage()},
    )


def text_events(pieces: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """content-start, one content-delta per piece, content-end (without message start/end)."""
    return [
        event(
            "content-start",
            index=0,
            delta={"message": {"content": {"type": "text", "text": ""}}},
        ),
        *(
            event("content-delta", index=0, delta={"message": {"content": {"text": piece}}})
            for piece in pieces
        ),
        event("content-end", index=0),
    ]


def tool_call_events(
    index: int, call_id: str, name: str, pieces: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    return [
        event(
            "tool-call-start",
            index=index,
            delta={"message": {"tool_calls": tool_call(call_id, name, "")}},
        ),
        *(
            event(
                "tool-call-delta",
                index=index,
                delta={"message": {"tool_calls": {"function": {"arguments": piece}}}},
            )
            for piece in pieces
        ),
        event("tool-call-end", index=index),
    ]


def tool_plan_events(plan: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [event("tool-plan-delta", delta={"message": {"tool_plan": p}}) for p in plan]


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json({"message": message}, status, headers=headers)


def embed_reply(vectors: list[list[float]], texts: list[str]) -> dict[str, Any]:
    return {
        "id": "da6e531f-54c6-4a73-bf92-f60566d8d753",
        "embeddings": {"float": vectors},
        "texts": texts,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": len(texts)}},
        "response_type": "embeddings_by_type",
    }


def models_reply(names: list[str]) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": name,
                "endpoints": ["chat"],
                "finetuned": False,
                "context_length": 256000,
                "features": ["tools", "json_mode"],
            }
            for name in names
        ]
    }


class CohereUpstream(FakeUpstream):
    """Answers like Cohere's API when nothing is scripted; ``base_url`` is the host root."""

    def _default(self, request: web.Request, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        path, method = request.path, request.method
        if path == "/v2/chat" and method == "POST":
            text = last_user_text(body.get("messages"))
            if not body.get("stream"):
                return Reply.json(text_reply(text))
            pieces = word_pieces(text) or [""]
            events = [message_start(), *text_events(pieces), message_end("COMPLETE")]
            return Reply.stream(events, done=False)
        if path == "/v2/embed" and method == "POST":
            texts = [str(t) for t in body.get("texts") or []]
            return Reply.json(embed_reply([embedding_for(t) for t in texts], texts))
        if path == "/v1/models" and method == "GET":
            return Reply.json(models_reply(["command-a-03-2025", "embed-v4.0"]))
        return error_reply(404, f"not found: {method} {path}")


__all__ = ["CohereUpstream", "RecordedRequest", "Reply"]
