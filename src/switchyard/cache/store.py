"""What a cache backend does (:class:`CacheStore`) and what it counts (:class:`StoreStats`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from switchyard.cache.keys import CacheKey


@dataclass(slots=True)
class StoreStats:
    hits: int = 0
    misses: int = 0
    saved_usd: float = 0.0  # what the hits' answers had cost when they were made
    entries: int = 0
    bytes: int = 0  # of the stored answers

    def add(self, other: StoreStats) -> None:
        self.hits += other.hits
        self.misses += other.misses
        self.saved_usd += other.saved_usd
        self.entries += other.entries
        self.bytes += other.bytes


class CacheStore(Protocol):
    """A backend: entries under :class:`CacheKey` with a TTL, and the counters of each
    tenant's namespace. ``fetch`` counts a hit or a miss in the key's namespace."""

    backend: str
    errors: int  # operations that failed and were skipped (fail open)

    async def fetch(self, key: CacheKey) -> bytes | None: ...

    async def put(self, key: CacheKey, blob: bytes, cost: float | None, ttl: float) -> None: ...

    async def stats(self, tenant: str | None, *, every: bool) -> StoreStats:
        """One tenant's namespace (None: the admin's), or ``every`` namespace together."""

    async def clear(self, *, alias: str | None, tenant: str | None, every: bool) -> int:
        """Remove entries (of ``alias`` only, when given) in one namespace or in ``every``
        one; the number removed. Counters are history and stay."""

    async def aclose(self) -> None: ...


__all__ = ["CacheStore", "StoreStats"]
