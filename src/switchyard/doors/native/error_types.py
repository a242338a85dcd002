"""The native API's errors: the gateway's taxonomy as the error types its clients know.

``{"error": {"type", "code", "message", "param"?}}`` with the error's own HTTP status; ``type``
is one of seven, ``code`` the gateway's finer code (the same as in OpenAI's shape)::

    RateLimited, LimitExceeded, QuotaExceeded              RATE_LIMIT        429
    ContextLengthExceeded                                  CONTEXT_LENGTH    400
    ModelNotFound                                          MODEL_NOT_FOUND   404
    Timeout, DeadlineExceeded, BodyTimeout                 TIMEOUT           504 / 408
    ProviderUnavailable, UpstreamProtocolError,
    UpstreamAuthenticationError, NoHealthyDeployment,
    LimitsUnavailable, StorageUnavailable, Overloaded,
    ShuttingDown                                           PROVIDER_ERROR    502 / 503
    AuthenticationError, PermissionDenied (model_not_allowed, admin_required, model_unpriced),
    InvalidRequest, ContentFiltered, PayloadTooLarge,
    NotFound, Conflict, NotConfigured                      INVALID_REQUEST   400-413, 501
    anything else (internal_error, a bug)                  UNKNOWN           500

A refused key is ``INVALID_REQUEST`` with ``code: invalid_api_key`` (401), a model outside the
key's grant ``INVALID_REQUEST`` with ``code: model_not_allowed`` (403): those clients' types
have no authentication kind, and the status and code tell them apart.
"""

from __future__ import annotations

from typing import Any

from switchyard.doors.errors import BodyTimeout, Overloaded, ShuttingDown
from switchyard.errors import (
    AuthenticationError,
    Conflict,
    ContextLengthExceeded,
    InvalidRequest,
    LimitsUnavailable,
    ModelNotFound,
    NoHealthyDeployment,
    NotConfigured,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ProviderUnavailable,
    QuotaExceeded,
    RateLimited,
    StorageUnavailable,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)

# looked up along the error's class hierarchy, nearest class first
ERROR_TYPES: dict[type[SwitchyardError], str] = {
    RateLimited: "RATE_LIMIT",
    QuotaExceeded: "RATE_LIMIT",
    ContextLengthExceeded: "CONTEXT_LENGTH",
    ModelNotFound: "MODEL_NOT_FOUND",
    Timeout: "TIMEOUT",
    BodyTimeout: "TIMEOUT",
    ProviderUnavailable: "PROVIDER_ERROR",
    UpstreamProtocolError: "PROVIDER_ERROR",
    UpstreamAuthenticationError: "PROVIDER_ERROR",
    NoHealthyDeployment: "PROVIDER_ERROR",
    LimitsUnavailable: "PROVIDER_ERROR",
    StorageUnavailable: "PROVIDER_ERROR",
    Overloaded: "PROVIDER_ERROR",
    ShuttingDown: "PROVIDER_ERROR",
    AuthenticationError: "INVALID_REQUEST",
    PermissionDenied: "INVALID_REQUEST",
    InvalidRequest: "INVALID_REQUEST",
    PayloadTooLarge: "INVALID_REQUEST",
    NotFound: "INVALID_REQUEST",
    Conflict: "INVALID_REQUEST",
    NotConfigured: "INVALID_REQUEST",
}


def error_type(error: SwitchyardError) -> str:
    """The native ``type`` of ``error``: its nearest class in :data:`ERROR_TYPES`."""
    for cls in type(error).__mro__:
        found = ERROR_TYPES.get(cls)
        if found is not None:
            return found
    return "UNKNOWN"


def error_to_native(error: SwitchyardError) -> dict[str, Any]:
    """The native error body (an :class:`~switchyard.doors.native.complete.ErrorBody`)."""
    detail: dict[str, Any] = {
        "type": error_type(error),
        "code": error.code,
        "message": error.message,
    }
    if error.param is not None:
        detail["param"] = error.param
    return {"error": detail}


__all__ = ["ERROR_TYPES", "error_to_native", "error_type"]
