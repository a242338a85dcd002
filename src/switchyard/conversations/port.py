"""What conversations need of the Gateway, as a Protocol: this package sits below the
Gateway (the import-linter layers), so it is handed the Gateway and talks to it only through
these methods, every call taking the one lifecycle (authorized, limited, accounted)."""

from __future__ import annotations

from typing import Protocol

from switchyard.records.record import RequestKind
from switchyard.types import ChatRequest, ChatResponse, Principal
from switchyard.types.stream import ChunkStream


class ConversationGateway(Protocol):
    async def chat(
        self, request: ChatRequest, /, *, principal: Principal | None = None
    ) -> ChatResponse: ...

    def stream(
        self, request: ChatRequest, /, *, principal: Principal | None = None
    ) -> ChunkStream: ...

    def count_tokens(self, request: ChatRequest, principal: Principal | None = None) -> int: ...

    def context_window(self, model: str, principal: Principal | None = None) -> int | None:
        """The window every deployment of ``model`` has (None: unknown); 403 when the caller
        may not use the model, 404 when there is no such model."""

    def refused(
        self, principal: Principal | None, kind: RequestKind, model: object, error: BaseException
    ) -> None:
        """Record a request refused before it reached the lifecycle (one usage row, as any)."""


__all__ = ["ConversationGateway"]
