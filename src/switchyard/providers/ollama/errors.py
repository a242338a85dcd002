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

import orjson

from switchyard.errors import (
    AuthenticationError,
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    PermissionDenied,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
)
from switchyard.providers.http import retry_after_seconds

_STATUS: dict[int, type[SwitchyardError]] = {
    400: InvalidRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: ModelNotFound,
    408: Timeout,
    413: PayloadTooLarge,
    422: InvalidRequest,
    429: RateLimited,
}

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
    return _by_status(
        status, message, provider, retry_after_seconds(_lowercase(headers)), upstream=status
    )


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
    try:
        payload = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return text[:500] or None
    if isinstance(payload, dict):
        value = payload.get("error")
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
    return None


def _by_status(
    status: int, message: str, provider: str | None, retry_after: float | None, *, upstream: int
) -> SwitchyardError:
    cls = _STATUS.get(status) or (ProviderUnavailable if status >= 500 else InvalidRequest)
    if cls is InvalidRequest and _mentions_context_length(message):
        cls = ContextLengthExceeded
    return cls(message, provider=provider, retry_after=retry_after, upstream_status=upstream)


def _mentions_context_length(message: str) -> bool:
    text = message.lower()
    return any(phrase in text for phrase in _CONTEXT_PHRASES)


def _lowercase(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Header names in lower case (aiohttp's mapping ignores case already; a dict does not)."""
    if isinstance(headers, dict):
        return {key.lower(): value for key, value in headers.items()}
    return headers


__all__ = ["error_message", "map_error", "map_error_line"]
