"""Any taxonomy error as Google's error JSON (pure): ``{"error": {"code", "message",
"status"}}`` (Google's AIP-193 error model, as the Gemini API answers it), with the error's
own HTTP status as ``code`` and the ``google.rpc.Code`` name that status stands for as
``status``, so ``google-genai`` raises its ``ClientError`` / ``ServerError`` with them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from switchyard.errors import SwitchyardError

# The door's routes: ``/v1beta/models/...`` and (the version google-genai now defaults to)
# ``/v1/models/...``; ``GET /v1/models`` is shared with the OpenAI door (see google_client).
PATHS = ("/v1beta/", "/v1/models/")
# headers only Google's SDKs send: the mark of a Gemini client on a shared route
CLIENT_HEADERS = frozenset({b"x-goog-api-client", b"x-goog-api-key"})


def google_client(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request's raw ASGI headers come from a Google SDK (google-genai, gemini-cli)."""
    return any(name in CLIENT_HEADERS for name, _ in headers)


# HTTP status -> the google.rpc.Code name Google's APIs answer it with
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status) or ("FAILED_PRECONDITION" if status < 500 else "UNKNOWN")


def google_error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": status_name(status)}}


def error_to_gemini(error: SwitchyardError) -> dict[str, Any]:
    """The body for ``error``, answered with ``error.status_code``."""
    return google_error(error.status_code, error.message)


__all__ = [
    "CLIENT_HEADERS",
    "PATHS",
    "STATUS_NAMES",
    "error_to_gemini",
    "google_client",
    "google_error",
    "status_name",
]
