"""Per-deployment records in bounded memory: configured deployments kept, made-up names capped.

The gateway keeps state per deployment (``provider/model``): a health record, a circuit breaker,
a routed candidate. Configured deployments are a fixed set and keep theirs for the life of the
process. A caller may also name any ``provider/model`` directly, so those names are unbounded:
their records live in a least-recently-used map of at most ``limit`` entries
(``router.max_direct_deployments``). An evicted name only loses its history: a request still
holding its record finishes with it, and the name's next request starts a fresh one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_MAX_DIRECT = 10_000


class DeploymentRecords(Generic[V]):
    """``key -> record``; the keys in ``keep`` are never evicted, the others are an LRU."""

    __slots__ = ("_direct", "_keep", "_kept", "limit")

    def __init__(self, keep: Iterable[str] = (), limit: int = DEFAULT_MAX_DIRECT) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._keep = frozenset(keep)
        self._kept: dict[str, V] = {}
        self._direct: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        """The record of ``key`` (now the most recently used), or None."""
        record = self._kept.get(key)
        if record is None:
            record = self._direct.get(key)
            if record is not None:
                self._direct.move_to_end(key)
        return record

    def add(self, key: str, record: V) -> V:
        """Store ``record`` for ``key``, evicting the least recently used other name past the
        limit; returns ``record``."""
        if key in self._keep:
            self._kept[key] = record
            return record
        self._direct[key] = record
        self._direct.move_to_end(key)
        if len(self._direct) > self.limit:
            self._direct.popitem(last=False)
        return record

    def values(self) -> Iterator[V]:
        yield from self._kept.values()
        yield from self._direct.values()

    def __contains__(self, key: object) -> bool:
        return key in self._kept or key in self._direct

    def __len__(self) -> int:
        return len(self._kept) + len(self._direct)


__all__ = ["DEFAULT_MAX_DIRECT", "DeploymentRecords"]
