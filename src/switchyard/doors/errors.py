"""Errors only the HTTP server raises: its own limits and its own failures.

They extend the gateway's taxonomy (:mod:`switchyard.errors`), so every door renders them like
any other error (OpenAI's error JSON, or an SSE error event once a stream has started)::

    BodyTimeout      408  the request body took longer than server.body_timeout_seconds
    Overloaded       503  more than server.max_concurrent_requests in flight; Retry-After: 1
    ShuttingDown     503  the drain deadline ended the request (SIGTERM)
    SwitchyardError  500  ``internal_error``: a bug, logged with the request id (the backstop)
"""

from __future__ import annotations

from switchyard.errors import SwitchyardError


class BodyTimeout(SwitchyardError):
    status_code = 408
    code = "request_timeout"
    error_type = "invalid_request_error"


class Overloaded(SwitchyardError):
    status_code = 503
    code = "server_overloaded"
    error_type = "api_error"


class ShuttingDown(SwitchyardError):
    status_code = 503
    code = "server_shutting_down"
    error_type = "api_error"


def internal_error(request_id: str) -> SwitchyardError:
    """What a client sees of a bug: no internals, just where to look."""
    return SwitchyardError(
        f"the gateway failed to handle this request; it is logged with request id {request_id}"
    )


def shutting_down() -> ShuttingDown:
    return ShuttingDown("the gateway is shutting down and ended this request; retry it")


__all__ = ["BodyTimeout", "Overloaded", "ShuttingDown", "internal_error", "shutting_down"]
