"""The response store: one stored response per id, owned by the tenant whose caller made it.

``put`` is synchronous for the doors (a stream stores its response as its last event is
written): the memory store keeps it at once, the database store keeps it in memory too until
its write has landed, so the same replica reads it back at once. Reads and deletes are
scoped to the caller's tenant (the admin, the master key, sees every tenant's); an id of
another tenant is a 404, as if it did not exist.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from switchyard.errors import NotFound
from switchyard.types import Principal


@dataclass(slots=True)
class StoredResponse:
    """One answer, its JSON kept as the bytes it was sent as: a GET answers with them as they
    are, and a thousand stored answers are a thousand byte strings to the garbage collector,
    not a thousand trees of dicts it would walk on every full collection."""

    id: str
    tenant: str | None
    key_id: str | None
    model: str  # what the caller asked for
    created_at: int  # unix seconds, when it was stored (its retention counts from it)
    input_items: bytes  # JSON: the conversation the response answered, in order
    response: bytes  # JSON: the Response object as the client got it

    def items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = orjson.loads(self.input_items)
        return items

    def conversation(self) -> list[dict[str, Any]]:
        """What a ``previous_response_id`` pointing here continues: the input, then the
        output items."""
        output = orjson.loads(self.response).get("output")
        return [*self.items(), *(output if isinstance(output, list) else ())]


class ResponseStore(ABC):
    retention_days: float | None = None  # older responses are gone (404)

    @abstractmethod
    def put(self, stored: StoredResponse) -> None: ...

    @abstractmethod
    async def _load(self, response_id: str) -> StoredResponse | None: ...

    @abstractmethod
    async def _remove(self, response_id: str) -> None: ...

    async def aclose(self) -> None:  # noqa: B027 - nothing to close by default
        """Finish pending writes."""

    async def get(self, response_id: str, principal: Principal) -> StoredResponse:
        """The response, or 404 (unknown, or another tenant's)."""
        stored = await self._load(response_id)
        if stored is None or not _visible(stored, principal) or self._expired(stored):
            raise NotFound(f"no response with id {response_id[:64]!r}", param="response_id")
        return stored

    async def delete(self, response_id: str, principal: Principal) -> None:
        await self.get(response_id, principal)
        await self._remove(response_id)

    def _expired(self, stored: StoredResponse) -> bool:
        days = self.retention_days
        return days is not None and stored.created_at < time.time() - days * 86_400


def _visible(stored: StoredResponse, principal: Principal) -> bool:
    return principal.admin or stored.tenant == principal.tenant


class MemoryResponseStore(ResponseStore):
    """At most ``max_stored`` responses and ``max_bytes`` of their JSON, the least recently
    used dropped first."""

    def __init__(
        self,
        max_stored: int,
        max_bytes: int = 256 * 1024 * 1024,
        retention_days: float | None = None,
    ) -> None:
        self.max_stored = max_stored
        self.max_bytes = max_bytes
        self.retention_days = retention_days
        self.bytes = 0
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()

    def put(self, stored: StoredResponse) -> None:
        old = self._items.pop(stored.id, None)
        if old is not None:
            self.bytes -= _size(old)
        self._items[stored.id] = stored
        self.bytes += _size(stored)
        while len(self._items) > self.max_stored or (
            self.bytes > self.max_bytes and len(self._items) > 1
        ):
            _, dropped = self._items.popitem(last=False)
            self.bytes -= _size(dropped)

    async def _load(self, response_id: str) -> StoredResponse | None:
        stored = self._items.get(response_id)
        if stored is not None:
            self._items.move_to_end(response_id)
        return stored

    async def _remove(self, response_id: str) -> None:
        dropped = self._items.pop(response_id, None)
        if dropped is not None:
            self.bytes -= _size(dropped)

    def __len__(self) -> int:
        return len(self._items)


def _size(stored: StoredResponse) -> int:
    return len(stored.input_items) + len(stored.response)


__all__ = ["MemoryResponseStore", "ResponseStore", "StoredResponse"]
