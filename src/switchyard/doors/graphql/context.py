"""What every resolver of one HTTP request or one WebSocket connection shares: the Gateway and
the caller.

Over HTTP the app's guard authenticated the request (its principal is in the ASGI scope);
over a WebSocket the ``connection_init`` payload is authenticated once per connection (see
:mod:`switchyard.doors.graphql.view`). A resolver asks :meth:`DoorContext.caller`, which
refuses (401) when neither happened, never assumes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket

from switchyard.doors.drain import Drain
from switchyard.doors.graphql.objects import CompletionInput
from switchyard.doors.graphql.translate import chat_fields
from switchyard.doors.http import check_model_name
from switchyard.errors import AuthenticationError, InvalidRequest, SwitchyardError
from switchyard.gateway import Gateway
from switchyard.records.record import RequestKind
from switchyard.types import Principal
from switchyard.types.principal import new_request_id

HealthReport = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(slots=True)
class DoorContext:
    gateway: Gateway
    health: HealthReport
    drain: Drain
    request: Request | WebSocket
    request_id: str
    principal: Principal | None = None
    connection_params: dict[str, Any] | None = None  # the WebSocket's connection_init payload
    completions: int = 0

    @property
    def over_http(self) -> bool:
        return isinstance(self.request, Request)

    def caller(self) -> Principal:
        if self.principal is None:
            raise AuthenticationError(
                "not authenticated: send 'Authorization: Bearer <key>' over HTTP, or "
                '{"Authorization": "Bearer <key>"} as the WebSocket connection_init payload'
            )
        return self.principal

    def completion_caller(self) -> Principal:
        """The caller of one more completion: over HTTP the first has the request's id and
        the next ones (a document may alias ``complete``) their own; each subscription on a
        WebSocket is a request of its own."""
        principal = self.caller()
        self.completions += 1
        if self.over_http and self.completions == 1:
            return principal
        return principal._replace(request_id=new_request_id())

    def completion_fields(
        self, request: CompletionInput, principal: Principal, kind: RequestKind
    ) -> dict[str, Any]:
        """The ``ChatRequest`` fields of ``request``, its model defaulting to the key's tenant
        default, else the first alias the caller may use. A request refused here is
        recorded, as the Gateway records those it refuses."""
        model = request.model
        try:
            if model is None:
                model = self._default_model(principal)
            check_model_name(model)
            return chat_fields(request, model)
        except SwitchyardError as error:
            self.gateway.refused(principal, kind, model, error)
            raise

    def _default_model(self, principal: Principal) -> str:
        model = self.gateway.default_model(principal)
        if model is not None:
            return model
        raise InvalidRequest(
            "model is required: this gateway has no alias to default to", param="model"
        )


__all__ = ["DoorContext", "HealthReport"]
