"""What conversations need of the Gateway, as a Protocol: this package sits below the
Gateway (the import-linter layers), so it is handed the Gateway and talks to it only through
these methods, every call taking the one lifecycle (authorized, limited, accounted)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from switchyard.types import (
    CacheStatus,
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Principal,
    ServedBy,
    Usage,
)


class ReplySource(Protocol):
    """A gateway stream, as far as a conversation reads it."""

    @property
    def served_by(self) -> ServedBy | None: ...

    @property
    def usage(self) -> Usage | None: ...

    @property
    def cache_status(self) -> CacheStatus | None: ...

    @property
    def cache_similarity(self) -> float | None: ...

    async def start(self) -> None: ...

    def __aiter__(self) -> AsyncIterator[ChatChunk]: ...

    async def aclose(self) -> None: ...


class ConversationGateway(Protocol):
    async def chat(
        self, request: ChatRequest, /, *, principal: Principal | None = None
    ) -> ChatResponse: ...

    def stream(
        self, request: ChatRequest, /, *, principal: Principal | None = None
    ) -> ReplySource: ...

    def count_tokens(self, request: ChatRequest, principal: Principal | None = None) -> int: ...

    def context_window(self, model: str, principal: Principal | None = None) -> int | None:
        """The window every deployment of ``model`` has (None: unknown); 403 when the caller
        may not use the model, 404 when there is no such model."""


__all__ = ["ConversationGateway", "ReplySource"]
