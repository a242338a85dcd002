"""The in-memory response store: bounded by count and by bytes (least recently used dropped
first), and scoped to the caller's tenant."""

from __future__ import annotations

import pytest

from switchyard.errors import NotFound
from switchyard.response_store.store import MemoryResponseStore, StoredResponse
from switchyard.types import Principal

ACME = Principal(request_id="r1", tenant="acme")
GLOBEX = Principal(request_id="r2", tenant="globex")


def stored(response_id: str, tenant: str | None = "acme", size: int = 10) -> StoredResponse:
    return StoredResponse(
        id=response_id,
        tenant=tenant,
        key_id=None,
        model="smart",
        created_at=1,
        input_items=b"[]",
        response=b'{"output":[]}' + b" " * size,
    )


async def test_least_recently_used_is_dropped_past_the_count() -> None:
    store = MemoryResponseStore(max_stored=2)
    store.put(stored("a"))
    store.put(stored("b"))
    await store.get("a", ACME)  # a is used: b is now the oldest
    store.put(stored("c"))
    assert len(store) == 2
    with pytest.raises(NotFound):
        await store.get("b", ACME)
    assert (await store.get("a", ACME)).id == "a"


async def test_bytes_are_bounded_too() -> None:
    store = MemoryResponseStore(max_stored=100, max_bytes=1100)
    for n in range(5):
        store.put(stored(str(n), size=400))
    assert len(store) == 2 and store.bytes <= 1100
    await store.delete("4", ACME)
    assert len(store) == 1 and store.bytes == len(b"[]") + len(b'{"output":[]}') + 400


async def test_scoped_to_the_tenant() -> None:
    store = MemoryResponseStore(max_stored=10)
    store.put(stored("a", tenant="acme"))
    with pytest.raises(NotFound):
        await store.get("a", GLOBEX)
    with pytest.raises(NotFound):
        await store.delete("a", GLOBEX)
    assert (await store.get("a", Principal.anonymous_admin())).id == "a"
    assert (await store.get("a", ACME)).conversation() == []
