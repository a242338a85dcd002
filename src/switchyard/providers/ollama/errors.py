"""Ollama's error replies -> the gateway's taxonomy (pure).

Ollama answers a failed request with an HTTP status and ``{"error": "..."}`` (docs/api/errors
in Ollama's repository: 400 bad request, 404 model not found, 429 rate limited (cloud models),
500, 502 cloud model unreachable); a failure after a streamed reply has begun is one more NDJSON
line, ``{"error": "...", "status": N}`` with ``status`` only sometimes present. The status
decides; a 400 (or a status-less stream error) that says the prompt exceeds the context length
is ``ContextLengthExceeded``. Any other 5xx (529 included) is ``ProviderUnavailable``, any
other 4xx ``InvalidRequest``; a status-less stream error is ``ProviderUnavailable`` (the model
failed while generating: another deployment may not).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.error_replies import error_body, retry_after_seconds
from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ProviderUnavailable,
    SwitchyardError,
    status_error_class,
)

# Ollama's messages for a prompt over the context ("the input length exceeds the context
# length", "input after truncation exceeds maximum context length", "the prompt is longer than
# the context length currently available to the model").
_CONTEXT_PHRASES = ("context length", "context window")


def map_error(
    status: int, headers: Mapping[str, str], body: bytes, provider: str
) -> SwitchyardError:
    """The taxonomy error a non-2xx Ollama reply means; a body that is not Ollama's JSON (a
    proxy's HTML page, nothing at all) still maps by status."""
    message = error_message(body) or f"upstream answered HTTP {status}"
    return _by_status(status, message, provider, retry_after_seconds(headers), upstream=status)


def map_error_line(line: Mapping[str, Any], provider: str | None) -> SwitchyardError:
    """The error an ``{"error": ...}`` line in the middle of a 200 stream means."""
    raw = line.get("error")
    message = raw if isinstance(raw, str) and raw else "the upstream reported an error mid-stream"
    status = line.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        return _by_status(status, message, provider, None, upstream=status)
    if _mentions_context_length(message):
        return ContextLengthExceeded(message, provider=provider)
    return ProviderUnavailable(message, provider=provider)


def error_message(body: bytes) -> str | None:
    """``error`` of Ollama's error JSON (the text itself when it is not JSON)."""
    payload, text = error_body(body)
    if isinstance(payload, dict):
        value = payload.get("error")
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
    return text


def _by_status(
    status: int, message: str, provider: str | None, retry_after: float | None, *, upstream: int
) -> SwitchyardError:
    cls = status_error_class(status) or InvalidRequest
    if cls is InvalidRequest and _mentions_context_length(message):
        cls = ContextLengthExceeded
    return cls(message, provider=provider, retry_after=retry_after, upstream_status=upstream)


def _mentions_context_length(message: str) -> bool:
    text = message.lower()
    return any(phrase in text for phrase in _CONTEXT_PHRASES)


__all__ = ["error_message", "map_error", "map_error_line"]
