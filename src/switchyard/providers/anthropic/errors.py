"""Anthropic's error replies -> the gateway's taxonomy (pure).

The error body, the statuses of Anthropic's errors page and the error-type table are in
:mod:`switchyard.formats.anthropic_errors`.

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

from switchyard.error_replies import retry_after_seconds
from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    status_error_class,
)
from switchyard.formats.anthropic_errors import ERROR_TYPES, error_body_fields, error_fields

# Statuses Anthropic's errors page adds to the shared table.
_STATUS: dict[int, type[SwitchyardError] | None] = {
    402: RateLimited,
    409: ProviderUnavailable,  # the SDKs retry a conflict
    504: Timeout,
    529: ProviderUnavailable,
}

_CONTEXT_PHRASES = ("prompt is too long", "context window", "context limit", "context length")


def map_error(
    status: int, headers: Mapping[str, str], body: bytes, provider: str
) -> SwitchyardError:
    """The taxonomy error an Anthropic non-2xx reply means; a body that is not Anthropic's error
    JSON (a proxy's HTML page, nothing) still maps by status."""
    kind, message = error_body_fields(body)
    cls = status_error_class(status, _STATUS) or ERROR_TYPES.get(kind or "", InvalidRequest)
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
    kind, message = error_fields(payload)
    cls = ERROR_TYPES.get(kind or "", ProviderUnavailable)
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


__all__ = ["map_error", "map_error_payload"]
