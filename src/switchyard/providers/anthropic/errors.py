"""Anthropic's error replies -> the gateway's taxonomy (pure).

Anthropic answers errors as ``{"type": "error", "error": {"type", "message"}, "request_id"}``
with the HTTP statuses of its errors page: 400 ``invalid_request_error``, 401
``authentication_error``, 402 ``billing_error``, 403 ``permission_error``, 404
``not_found_error``, 413 ``request_too_large``, 429 ``rate_limit_error`` (with
``retry-after``), 500 ``api_error``, 504 ``timeout_error``, 529 ``overloaded_error``. The same
error object arrives as an ``error`` event inside a streamed 200 reply.

The status decides (it is what the upstream said); the error ``type`` decides only when there is
no status (a stream's error event) or the status is unknown. A 400 whose message says the prompt
is too long is ``ContextLengthExceeded``. ``billing_error`` (credits exhausted) is
``RateLimited``, as OpenAI's ``insufficient_quota`` is: retryable, so the router moves on to
another deployment rather than failing the request. ``authentication_error`` and
``permission_error`` refuse the gateway's own key: ``UpstreamAuthenticationError``, a
provider-side failure that fails over (the shared table maps 401 and 403 the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.error_replies import error_body, retry_after_seconds
from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    status_error_class,
)

# Statuses Anthropic's errors page adds to the shared table.
_STATUS: dict[int, type[SwitchyardError] | None] = {
    402: RateLimited,
    409: ProviderUnavailable,  # the SDKs retry a conflict
    504: Timeout,
    529: ProviderUnavailable,
}

_TYPE: dict[str, type[SwitchyardError]] = {
    "invalid_request_error": InvalidRequest,
    "authentication_error": UpstreamAuthenticationError,
    "billing_error": RateLimited,
    "permission_error": UpstreamAuthenticationError,
    "not_found_error": ModelNotFound,
    "request_too_large": PayloadTooLarge,
    "rate_limit_error": RateLimited,
    "timeout_error": Timeout,
    "api_error": ProviderUnavailable,
    "overloaded_error": ProviderUnavailable,
}

_CONTEXT_PHRASES = ("prompt is too long", "context window", "context limit", "context length")


def map_error(
    status: int, headers: Mapping[str, str], body: bytes, provider: str
) -> SwitchyardError:
    """The taxonomy error an Anthropic non-2xx reply means; a body that is not Anthropic's error
    JSON (a proxy's HTML page, nothing) still maps by status."""
    kind, message = _read(body)
    cls = status_error_class(status, _STATUS) or _TYPE.get(kind or "", InvalidRequest)
    return _build(
        cls,
        message or f"upstream answered HTTP {status}",
        provider,
        retry_after=retry_after_seconds(headers),
        status=status,
    )


def map_error_payload(payload: Mapping[str, Any], provider: str) -> SwitchyardError:
    """The taxonomy error an ``{"type": "error", "error": {...}}`` payload means without a
    status (a stream's ``error`` event); an unknown type is an upstream failure."""
    kind, message = _fields(payload)
    cls = _TYPE.get(kind or "", ProviderUnavailable)
    return _build(cls, message or f"upstream reported {kind or 'an error'}", provider)


def _build(
    cls: type[SwitchyardError],
    message: str,
    provider: str,
    *,
    retry_after: float | None = None,
    status: int | None = None,
) -> SwitchyardError:
    if cls is InvalidRequest and any(p in message.lower() for p in _CONTEXT_PHRASES):
        cls = ContextLengthExceeded
    return cls(message, provider=provider, retry_after=retry_after, upstream_status=status)


def _read(body: bytes) -> tuple[str | None, str | None]:
    payload, text = error_body(body)
    if text is not None:
        return None, text
    if isinstance(payload, dict):
        return _fields(payload)
    return None, None


def _fields(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    inner = payload.get("error")
    if isinstance(inner, str):
        return None, inner
    if not isinstance(inner, Mapping):
        return None, None
    kind, message = inner.get("type"), inner.get("message")
    return (
        kind if isinstance(kind, str) else None,
        message if isinstance(message, str) else None,
    )


__all__ = ["map_error", "map_error_payload"]
