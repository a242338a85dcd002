"""A fake Gemini API (Generative Language API, v1beta) on 127.0.0.1 for tests.

Payloads follow Google's REST reference: ai.google.dev/api/generate-content
(``GenerateContentResponse``: ``candidates[].content.parts``, ``finishReason``,
``usageMetadata``, ``modelVersion``, ``responseId``; streaming with ``alt=sse`` sends one such
object per ``data:`` event and no terminal sentinel), ai.google.dev/api/embeddings
(``embedContent`` -> ``{"embedding": {"values"}}``, ``batchEmbedContents`` ->
``{"embeddings": [...]}``), ai.google.dev/api/models (``{"models": [{"name": "models/..."}]}``)
and the error model of ai.google.dev/gemini-api/docs/troubleshooting
(``{"error": {"code", "message", "status", "details"}}``).

Scripted replies are served in order whatever the path; with nothing scripted the fake answers
like the API: a completion echoing the last user text (streamed for ``:streamGenerateContent``),
deterministic embeddings, a model list, or Gemini's 404.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from tests.fakes.upstream import FakeUpstream, RecordedRequest, Reply, word_pieces

MODEL_VERSION = "gemini-2.5-flash"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def usage_metadata(
    prompt: int, candidates: int, *, cached: int = 0, thoughts: int = 0
) -> dict[str, Any]:
    """Gemini's counts: ``prompt`` includes ``cached``; ``thoughts`` are apart from
    ``candidates``; the total is their sum."""
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if cached:
        usage["cachedContentTokenCount"] = cached
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def candidate(
    parts: list[dict[str, Any]], finish: str | None = "STOP", *, index: int = 0
) -> dict[str, Any]:
    out: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": index}
    if finish is not None:
        out["finishReason"] = finish
    return out


def response(
    parts: list[dict[str, Any]],
    finish: str | None = "STOP",
    usage: dict[str, Any] | None = None,
    *,
    response_id: str = "resp-gem-1",
) -> dict[str, Any]:
    """A ``GenerateContentResponse`` with one candidate (also one streamed chunk)."""
    body: dict[str, Any] = {"candidates": [candidate(parts, finish)]}
    if usage is not None:
        body["usageMetadata"] = usage
    body["modelVersion"] = MODEL_VERSION
    body["responseId"] = response_id
    return body


def function_call(name: str, args: dict[str, Any], call_id: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"name": name, "args": args}
    if call_id is not None:
        call["id"] = call_id
    return {"functionCall": call}


def error_body(
    code: int, message: str, status: str | None = None, details: list[Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": status or STATUS_NAMES.get(code, "UNKNOWN"),
    }
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_reply(
    code: int,
    message: str = "scripted error",
    status: str | None = None,
    *,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    return Reply.json(error_body(code, message, status, details), code, headers=headers)


def sse(events: list[Any], **options: Any) -> Reply:
    """A ``streamGenerateContent?alt=sse`` reply: no ``[DONE]``, the body just ends."""
    return Reply.stream(events, done=False, **options)


def embedding_for(text: str, dimensions: int = 8) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [(digest[i % len(digest)] - 128) / 128 for i in range(dimensions)]


class GeminiUpstream(FakeUpstream):
    """Answers like the Gemini API when nothing is scripted; ``base_url`` is the host root."""

    def _default(self, request: web.Request, body: Any) -> Reply:
        path, method = request.path, request.method
        body = body if isinstance(body, dict) else {}
        if method == "POST" and path.endswith(":generateContent"):
            text = _last_user_text(body)
            return Reply.json(response([{"text": text}], usage=_usage(body, text)))
        if method == "POST" and path.endswith(":streamGenerateContent"):
            text = _last_user_text(body)
            pieces = word_pieces(text) or [""]
            events = [response([{"text": piece}], None) for piece in pieces[:-1]]
            events.append(response([{"text": pieces[-1]}], "STOP", _usage(body, text)))
            return sse(events)
        if method == "POST" and path.endswith(":embedContent"):
            return Reply.json({"embedding": {"values": _embed(body)}})
        if method == "POST" and path.endswith(":batchEmbedContents"):
            items = body.get("requests") or []
            return Reply.json({"embeddings": [{"values": _embed(item)} for item in items]})
        if method == "GET" and path.endswith("/models"):
            return Reply.json({"models": [_model(name) for name in MODELS]})
        return error_reply(404, f"Requested entity was not found ({method} {path}).")


MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-embedding-001")


def _model(name: str) -> dict[str, Any]:
    methods = ["embedContent"] if "embedding" in name else ["generateContent", "countTokens"]
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name,
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": methods,
    }


def _last_user_text(body: dict[str, Any]) -> str:
    for content in reversed(body.get("contents") or []):
        if content.get("role") == "user":
            return "".join(p.get("text", "") for p in content.get("parts", []))
    return ""


def _usage(body: dict[str, Any], reply: str) -> dict[str, Any]:
    return usage_metadata(len(_last_user_text(body).split()) + 1, len(reply.split()))


def _embed(item: dict[str, Any]) -> list[float]:
    text = "".join(p.get("text", "") for p in (item.get("content") or {}).get("parts", []))
    return embedding_for(text, item.get("outputDimensionality") or 8)


__all__ = [
    "MODEL_VERSION",
    "GeminiUpstream",
    "RecordedRequest",
    "Reply",
    "candidate",
    "embedding_for",
    "error_body",
    "error_reply",
    "function_call",
    "response",
    "sse",
    "usage_metadata",
]
