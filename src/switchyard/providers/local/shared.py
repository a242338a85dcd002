"""Process-wide, reference-counted models: the first user loads one, the last user frees it.

Several ``local`` providers (or several gateways in one process) that name the same model file
share one loaded copy. Loading happens under a lock, so concurrent first requests never load a
model twice; the calls here block and are meant to run in a worker thread, never on the loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    users: int = 0


class SharedModels(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], close: Callable[[V], None]) -> None:
        self._load = load
        self._close = close
        self._lock = threading.Lock()
        self._entries: dict[K, _Entry[V]] = {}
        self.loads = 0

    def acquire(self, key: K) -> V:
        """The loaded model for ``key``, loading it on first use (blocking)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = _Entry(self._load(key))
                self._entries[key] = entry
                self.loads += 1
            entry.users += 1
            return entry.value

    def release(self, key: K) -> None:
        """Give back one use; the last one closes the model (blocking)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            entry.users -= 1
            if entry.users > 0:
                return
            del self._entries[key]
        self._close(entry.value)

    def users(self, key: K) -> int:
        with self._lock:
            entry = self._entries.get(key)
            return entry.users if entry is not None else 0


__all__ = ["SharedModels"]
