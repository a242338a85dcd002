"""``POST /api/v1/comparison``: essay comparison over the native API.

    {"user_prompt", "essay_a", "essay_b", "provider"?, "model_override"?,
     "temperature_override"?, "correlation_id"?}
    -> {"winner": "essay_a" | "essay_b", "justification", "confidence", "provider", "model",
        "usage", "cost", "latency_ms", "correlation_id", "position_consistent"?}

The door only translates: the body goes to :meth:`Gateway.compare
<switchyard.gateway.Gateway.compare>` as it came (the comparison validates it and names the
field at fault), and the result comes back as JSON. Errors are the native error JSON; a model
that never answers with the comparison's JSON is a 502 ``invalid_model_answer``.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from switchyard.comparison import ComparisonResult
from switchyard.config.schema import ServerSettings
from switchyard.doors.http import (
    JSON,
    ClientDisconnected,
    json_error,
    new_context,
    principal_of,
    read_json,
    unless_disconnected,
)
from switchyard.doors.native.complete import (
    NativeCost,
    NativeUsage,
    cost_to_native,
    usage_to_native,
)
from switchyard.doors.native.error_types import error_to_native
from switchyard.errors import SwitchyardError
from switchyard.gateway import Gateway
from switchyard.types import Principal

MAX_BODY_BYTES = 4 * 1024 * 1024  # two essays at comparison.max_essay_chars' ceiling, and more


class ComparisonResponse(BaseModel):
    """The answer's shape (the contract the tests and the README hold it to)."""

    model_config = ConfigDict(extra="forbid")

    winner: Literal["essay_a", "essay_b"]
    justification: str
    confidence: float = Field(ge=0, le=1)
    provider: str = Field(description="the configured provider that judged (the A/B order)")
    model: str = Field(description="the upstream model that judged")
    usage: NativeUsage = Field(description="every model call's tokens, retries included")
    cost: NativeCost | None = Field(description="US dollars of every call; null if unpriced")
    latency_ms: float
    correlation_id: str = Field(description="the request's correlation_id, else its request id")
    position_consistent: bool | None = Field(
        default=None, description="with comparison.both_orders: whether both orders agreed"
    )


def result_to_native(result: ComparisonResult) -> dict[str, Any]:
    """A :class:`ComparisonResponse`; ``position_consistent`` only when both orders ran."""
    body: dict[str, Any] = {
        "winner": result.winner,
        "justification": result.justification,
        "confidence": result.confidence,
        "provider": result.provider,
        "model": result.model,
        "usage": usage_to_native(result.usage),
        "cost": cost_to_native(result.cost),
        "latency_ms": result.latency_ms,
        "correlation_id": result.correlation_id,
    }
    if result.position_consistent is not None:
        body["position_consistent"] = result.position_consistent
    return body


class ComparisonDoor:
    def __init__(self, gateway: Gateway, settings: ServerSettings) -> None:
        self.gateway = gateway
        self.max_body_bytes = min(settings.max_body_bytes, MAX_BODY_BYTES)
        self.body_timeout = settings.body_timeout_seconds

    async def compare(self, request: Request) -> Response:
        context = new_context(request)
        principal: Principal | None = None
        try:
            principal = principal_of(request)
            try:
                body = await read_json(request, self.max_body_bytes, self.body_timeout)
            except SwitchyardError as error:  # refused before the gateway: still one record
                self.gateway.refused(principal, "chat", None, error)
                raise
            result = await unless_disconnected(
                request, self.gateway.compare(body, principal=principal)
            )
        except SwitchyardError as error:
            return json_error(error, error_to_native(error), context)
        except ClientDisconnected:
            return Response(status_code=499, headers=context.headers())
        return Response(
            orjson.dumps(result_to_native(result)),
            media_type=JSON,
            headers=context.headers(cost=result.cost),
        )


__all__ = ["ComparisonDoor", "ComparisonResponse", "result_to_native"]
