"""The in-process cache: a least-recently-used table bounded by entries and by bytes.

Expired entries are dropped when they are next read (or evicted first when room is needed,
since an expired entry is never used again). Every operation is synchronous under the hood:
nothing here awaits, so concurrent requests of one event loop never see a half-made change.
"""

from __future__ import annotations

import time
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from switchyard.cache.keys import CacheKey
from switchyard.cache.store import StoreStats

_KEY_OVERHEAD = 64  # the digest, counted with each entry's bytes


@dataclass(slots=True)
class _Entry:
    blob: bytes
    cost: float | None
    expires: float
    size: int


class MemoryStore:
    backend = "memory"

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.errors = 0
        self._clock = clock
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._bytes = 0
        self._counters: dict[str | None, StoreStats] = {}
        # the semantic cache: scope -> entry digest -> (unit vector, expires); scopes in
        # order of their last addition, max_entries vectors in all
        self._vectors: OrderedDict[CacheKey, OrderedDict[str, tuple[array[float], float]]] = (
            OrderedDict()
        )
        self._vector_count = 0

    async def fetch(self, key: CacheKey, *, count: bool = True) -> bytes | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires <= self._clock():
            self._drop(key)
            entry = None
        if entry is not None:
            self._entries.move_to_end(key)
        if count:
            await self.count(
                key.tenant, hit=entry is not None, saved=None if entry is None else entry.cost
            )
        return None if entry is None else entry.blob

    async def count(self, tenant: str | None, *, hit: bool, saved: float | None) -> None:
        counters = self._counter(tenant)
        if not hit:
            counters.misses += 1
            return
        counters.hits += 1
        if saved is not None:
            counters.saved_usd += saved

    async def vectors(self, scope: CacheKey) -> list[tuple[str, array[float]]]:
        kept = self._vectors.get(scope)
        if not kept:
            return []
        now = self._clock()
        for digest in [d for d, (_, expires) in kept.items() if expires <= now]:
            del kept[digest]
            self._vector_count -= 1
        return [(digest, vector) for digest, (vector, _) in kept.items()]

    async def add_vector(
        self, scope: CacheKey, digest: str, vector: array[float], ttl: float, limit: int
    ) -> None:
        kept = self._vectors.get(scope)
        if kept is None:
            kept = self._vectors[scope] = OrderedDict()
        self._vectors.move_to_end(scope)
        if digest in kept:
            del kept[digest]
            self._vector_count -= 1
        kept[digest] = (vector, self._clock() + ttl)
        self._vector_count += 1
        while len(kept) > limit:
            kept.popitem(last=False)
            self._vector_count -= 1
        while self._vector_count > self.max_entries:
            oldest_scope, oldest = next(iter(self._vectors.items()))
            oldest.popitem(last=False)
            self._vector_count -= 1
            if not oldest:
                del self._vectors[oldest_scope]

    async def put(self, key: CacheKey, blob: bytes, cost: float | None, ttl: float) -> None:
        size = len(blob) + len(key.alias) + _KEY_OVERHEAD
        if size > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = _Entry(blob, cost, self._clock() + ttl, size)
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))  # the least recently used

    async def stats(self, tenant: str | None, *, every: bool) -> StoreStats:
        self._purge_expired()
        total = StoreStats()
        for namespace, counters in self._counters.items():
            if every or namespace == tenant:
                total.add(counters)
        for key, entry in self._entries.items():
            if every or key.tenant == tenant:
                total.entries += 1
                total.bytes += entry.size
        return total

    async def clear(self, *, alias: str | None, tenant: str | None, every: bool) -> int:
        doomed = [
            key
            for key in self._entries
            if (every or key.tenant == tenant) and (alias is None or key.alias == alias)
        ]
        for key in doomed:
            self._drop(key)
        for scope in [
            s
            for s in self._vectors
            if (every or s.tenant == tenant) and (alias is None or s.alias == alias)
        ]:
            self._vector_count -= len(self._vectors.pop(scope))
        return len(doomed)

    async def aclose(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self._vectors.clear()
        self._vector_count = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size

    def _purge_expired(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires <= now]:
            self._drop(key)

    def _counter(self, tenant: str | None) -> StoreStats:
        counters = self._counters.get(tenant)
        if counters is None:
            counters = self._counters[tenant] = StoreStats()
        return counters


__all__ = ["MemoryStore"]
