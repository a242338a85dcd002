"""The in-process cache: a least-recently-used table bounded by entries and by bytes.

Expired entries are dropped when they are next read (or evicted first when room is needed,
since an expired entry is never used again). Every operation is synchronous under the hood:
nothing here awaits, so concurrent requests of one event loop never see a half-made change.
"""

from __future__ import annotations

import time
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

    async def fetch(self, key: CacheKey) -> bytes | None:
        counters = self._counter(key.tenant)
        entry = self._entries.get(key)
        if entry is not None and entry.expires <= self._clock():
            self._drop(key)
            entry = None
        if entry is None:
            counters.misses += 1
            return None
        self._entries.move_to_end(key)
        counters.hits += 1
        if entry.cost is not None:
            counters.saved_usd += entry.cost
        return entry.blob

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
        return len(doomed)

    async def aclose(self) -> None:
        self._entries.clear()
        self._bytes = 0

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
