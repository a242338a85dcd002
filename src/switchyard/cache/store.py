"""What a cache backend does (:class:`CacheStore`) and what it counts (:class:`StoreStats`)."""

from __future__ import annotations

from array import array
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

    async def fetch(self, key: CacheKey, *, count: bool = True) -> bytes | None:
        """The entry's bytes; ``count`` False leaves the counting to :meth:`count`."""

    async def count(self, tenant: str | None, *, hit: bool, saved: float | None) -> None: ...

    async def vectors(self, scope: CacheKey) -> list[tuple[str, array[float]]]:
        """The semantic cache's live vectors in ``scope``: (entry digest, unit vector)."""

    async def add_vector(
        self, scope: CacheKey, digest: str, vector: array[float], ttl: float, limit: int
    ) -> None:
        """Keep at most ``limit`` vectors in ``scope`` (the oldest go first)."""

    async def put(self, key: CacheKey, blob: bytes, cost: float | None, ttl: float) -> None: ...

    async def stats(self, tenant: str | None, *, every: bool) -> StoreStats:
        """One tenant's namespace (None: the admin's), or ``every`` namespace together."""

    async def clear(self, *, alias: str | None, tenant: str | None, every: bool) -> int:
        """Remove entries and their vectors (of ``alias`` only, when given) in one namespace
        or in ``every`` one; the number of entries removed. Counters are history and stay."""

    async def aclose(self) -> None: ...


__all__ = ["CacheStore", "StoreStats"]
