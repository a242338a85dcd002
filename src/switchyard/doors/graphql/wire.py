"""A taxonomy error as GraphQL words it (no Strawberry needed: the app's guard uses this for
the requests it refuses at ``/graphql`` before any resolver runs)."""

from __future__ import annotations

from typing import Any

from switchyard.errors import SwitchyardError

PATH = "/graphql"


def extensions(error: SwitchyardError) -> dict[str, Any]:
    """``{code, type, status}`` (the code, type and HTTP status the OpenAI door answers with),
    with ``param`` and ``retryAfter`` when the error has them."""
    body: dict[str, Any] = {
        "code": error.code,
        "type": error.error_type,
        "status": error.status_code,
    }
    if error.param is not None:
        body["param"] = error.param
    if error.retry_after is not None:
        body["retryAfter"] = error.retry_after
    return body


def error_body(error: SwitchyardError) -> dict[str, Any]:
    """A GraphQL response with no data and this one error: ``{"errors": [...]}``."""
    return {"errors": [{"message": error.message, "extensions": extensions(error)}]}


__all__ = ["PATH", "error_body", "extensions"]
