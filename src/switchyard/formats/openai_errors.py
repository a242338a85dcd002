"""OpenAI's error JSON, both directions.

``error_to_openai`` renders the taxonomy as OpenAI does (``{"error": {message, type, param,
code}}``), so the official SDK raises its own typed exceptions. ``map_openai_error`` reads an
upstream's error reply: the HTTP status decides first (it is what the upstream said), the
structured ``error.code`` / ``error.type`` refine it (``context_length_exceeded``,
``content_filter``, ``model_not_found``), and only for a plain 400 does the message text get a
look, for the one case servers rarely code (vLLM, llama.cpp: "maximum context length").
An upstream's 401/403 (or an ``invalid_api_key`` / ``authentication_error`` /
``permission_error`` payload) is ``UpstreamAuthenticationError``: the gateway's key was refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.error_replies import error_body, retry_after_seconds
from switchyard.errors import (
    ContentFiltered,
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    status_error_class,
)

# Statuses OpenAI's table adds to the shared one: 409 (OpenAI's "lock timeout") is retried by
# OpenAI's own SDK, so it is an availability problem here too.
_STATUS: dict[int, type[SwitchyardError] | None] = {409: ProviderUnavailable}

# error.code (or error.type) -> a finer class than the status gives.
_REFINE: dict[str, type[SwitchyardError]] = {
    "context_length_exceeded": ContextLengthExceeded,
    "content_filter": ContentFiltered,
    "content_policy_violation": ContentFiltered,
    "model_not_found": ModelNotFound,
}

# error.type / error.code -> class, for error payloads that arrive without an error status
# (an SSE ``{"error": ...}`` event in the middle of a 200 stream).
_BY_KIND: dict[str, type[SwitchyardError]] = {
    **_REFINE,
    "invalid_request_error": InvalidRequest,
    "authentication_error": UpstreamAuthenticationError,
    "invalid_api_key": UpstreamAuthenticationError,
    "permission_error": UpstreamAuthenticationError,
    "permission_denied": UpstreamAuthenticationError,
    "not_found_error": ModelNotFound,
    "rate_limit_error": RateLimited,
    "rate_limit_exceeded": RateLimited,
    "insufficient_quota": RateLimited,
    "tokens": RateLimited,
    "requests": RateLimited,
    "timeout": Timeout,
    "server_error": ProviderUnavailable,
    "api_error": ProviderUnavailable,
    "overloaded_error": ProviderUnavailable,
    "service_unavailable": ProviderUnavailable,
}

_CONTEXT_PHRASES = ("maximum context length", "context length exceeded", "context window")


def error_to_openai(error: SwitchyardError) -> dict[str, Any]:
    """The ``{"error": {...}}`` body OpenAI answers with (``ErrorResponse`` in its spec)."""
    return {
        "error": {
            "message": error.message,
            "type": error.error_type,
            "param": error.param,
            "code": error.code,
        }
    }


def map_openai_error(
    status: int, headers: Mapping[str, str], body: bytes, provider: str
) -> SwitchyardError:
    """The taxonomy error an OpenAI(-compatible) upstream's non-2xx reply means.

    A body that is not JSON (an HTML page from a proxy, an empty body) still maps by status.
    ``retry_after`` comes from ``retry-after-ms`` / ``retry-after``.
    """
    info = _ErrorInfo.parse(body)
    cls = status_error_class(status, _STATUS) or InvalidRequest
    if cls is InvalidRequest or cls is ModelNotFound:
        cls = info.refined() or cls
        if cls is InvalidRequest and info.mentions_context_length():
            cls = ContextLengthExceeded
    message = info.message or f"upstream answered HTTP {status}"
    return cls(
        message,
        provider=provider,
        param=info.param,
        retry_after=retry_after_seconds(headers),
        upstream_status=status,
    )


def map_openai_error_payload(payload: Mapping[str, Any], provider: str) -> SwitchyardError:
    """The taxonomy error an ``{"error": {...}}`` payload means when no HTTP status says
    anything (an error event inside a streamed 200 reply). Unknown kinds are upstream
    failures: ``ProviderUnavailable``."""
    info = _ErrorInfo.from_payload(payload)
    cls = info.refined() or info.by_kind()
    if cls is None and info.status is not None and info.status >= 400:
        cls = status_error_class(info.status, _STATUS) or ProviderUnavailable
    cls = cls or ProviderUnavailable
    return cls(
        info.message or "upstream reported an error mid-stream",
        provider=provider,
        param=info.param,
        upstream_status=info.status,
    )


class _ErrorInfo:
    """What an error body says, tolerant of the shapes OpenAI-compatible servers use:
    ``{"error": {...}}`` (OpenAI), ``{"error": "text"}``, ``{"object": "error", "message",
    "type", "code": 400}`` (vLLM), ``{"detail": ...}`` (FastAPI)."""

    __slots__ = ("code", "message", "param", "status", "type")

    def __init__(
        self,
        message: str | None = None,
        type_: str | None = None,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.status = status

    @classmethod
    def parse(cls, body: bytes) -> _ErrorInfo:
        payload, text = error_body(body)
        if text is not None:
            return cls(message=text)
        if isinstance(payload, dict):
            return cls.from_payload(payload)
        return cls()

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> _ErrorInfo:
        inner = payload.get("error", payload)
        if isinstance(inner, str):
            return cls(message=inner)
        if not isinstance(inner, Mapping):
            return cls()
        message = inner.get("message", inner.get("detail"))
        if message is not None and not isinstance(message, str):
            message = orjson.dumps(message).decode()
        raw_code = inner.get("code")
        status = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        return cls(
            message=message,
            type_=_str_or_none(inner.get("type")),
            code=raw_code if isinstance(raw_code, str) else None,
            param=_str_or_none(inner.get("param")),
            status=status,
        )

    def refined(self) -> type[SwitchyardError] | None:
        return _REFINE.get(self.code or "") or _REFINE.get(self.type or "")

    def by_kind(self) -> type[SwitchyardError] | None:
        return _BY_KIND.get(self.code or "") or _BY_KIND.get(self.type or "")

    def mentions_context_length(self) -> bool:
        text = (self.message or "").lower()
        return any(phrase in text for phrase in _CONTEXT_PHRASES)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["error_to_openai", "map_openai_error", "map_openai_error_payload"]
