"""Anthropic's error JSON on the wire: ``{"type": "error", "error": {"type", "message"},
"request_id"}``, answered with the HTTP statuses of its errors page (400
``invalid_request_error``, 401 ``authentication_error``, 402 ``billing_error``, 403
``permission_error``, 404 ``not_found_error``, 413 ``request_too_large``, 429
``rate_limit_error`` with ``retry-after``, 500 ``api_error``, 504 ``timeout_error``, 529
``overloaded_error``). The same error object arrives as an ``error`` event inside a streamed
200 reply.

:data:`ERROR_TYPES` is what each error ``type`` means in the taxonomy. How an upstream's reply
maps (the status first) is the adapter's: :mod:`switchyard.providers.anthropic.errors`.
:func:`error_to_anthropic` goes the other way, for the gateway's own Anthropic door: any
taxonomy error as Anthropic's body and status, so the ``anthropic`` SDK raises its own
exceptions (``overloaded_error`` with 529: ``OverloadedError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.error_replies import error_body
from switchyard.errors import (
    InvalidRequest,
    ModelNotFound,
    NoHealthyDeployment,
    PayloadTooLarge,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
)

ERROR_TYPES: dict[str, type[SwitchyardError]] = {
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


# the gateway's status -> the Anthropic error type of that status
_TYPE_OF_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
}
OVERLOADED_STATUS = 529


def error_to_anthropic(error: SwitchyardError) -> tuple[int, dict[str, Any]]:
    """The status and ``{"type": "error", "error": {"type", "message"}}`` body Anthropic would
    answer ``error`` with: by the error's status, 4xx without an Anthropic type of their own
    (408, 409, ...) as ``invalid_request_error``; every upstream or deployment being
    unavailable (``ProviderUnavailable``, ``NoHealthyDeployment``) and the server's own
    overload (``code: server_overloaded``) as 529 ``overloaded_error``; other 5xx as
    ``api_error`` with their status."""
    status = error.status_code
    if isinstance(error, ProviderUnavailable | NoHealthyDeployment) or (
        error.code == "server_overloaded"
    ):
        status, kind = OVERLOADED_STATUS, "overloaded_error"
    else:
        kind = _TYPE_OF_STATUS.get(status) or (
            "invalid_request_error" if status < 500 else "api_error"
        )
    return status, {"type": "error", "error": {"type": kind, "message": error.message}}


def error_body_fields(body: bytes) -> tuple[str | None, str | None]:
    """An error reply's ``(type, message)``; a body that is not JSON (a proxy's HTML page) gives
    its text as the message, and nothing readable gives ``(None, None)``."""
    payload, text = error_body(body)
    if text is not None:
        return None, text
    if isinstance(payload, dict):
        return error_fields(payload)
    return None, None


def error_fields(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The ``(type, message)`` of an ``{"type": "error", "error": {...}}`` payload (an
    ``error`` that is a plain string is the message)."""
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


__all__ = [
    "ERROR_TYPES",
    "OVERLOADED_STATUS",
    "error_body_fields",
    "error_fields",
    "error_to_anthropic",
]
