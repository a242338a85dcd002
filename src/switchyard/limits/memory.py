"""Counters in this process's memory: the same arithmetic as the Redis scripts, in Python.

Every method runs to completion without awaiting, so on one event loop an admission is as
atomic as the Lua script is in Redis. One replica only: two processes each count alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from switchyard.limits.rules import BUDGET, GCRA, KEEP_AFTER_PERIOD, Correction, Rule, Verdict

PURGE_EVERY = 4096  # admissions between two sweeps of expired counters
# seconds of slack in GCRA comparisons: times near 1.7e9 (Redis TIME) carry ~2e-7 s of float
# error, which must not refuse a request that fits exactly (the Lua script uses the same)
EPSILON = 1e-4


class MemoryCounters:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # key -> [value, expires at (clock); inf: never]; a GCRA value is its tat (clock)
        self._values: dict[str, list[float]] = {}
        self._until_purge = PURGE_EVERY

    async def acquire(
        self, rules: Sequence[Rule], corrections: Sequence[Correction] = ()
    ) -> Verdict:
        if corrections:
            await self.correct(corrections)
        now = self._clock()
        self._maybe_purge(now)
        news: list[float] = []
        for i, rule in enumerate(rules):
            entry = self._values.get(rule.key)
            live = entry is not None and entry[1] > now
            value = entry[0] if live and entry is not None else 0.0
            if rule.kind == GCRA:
                new = max(value, now) + rule.amount * rule.span / rule.limit
                if new - now > rule.span + EPSILON:
                    return Verdict(refused=i, retry_after=new - rule.span - now)
            elif rule.kind == BUDGET:
                if not live:
                    return Verdict(seed=i)
                if value >= rule.limit:
                    return Verdict(refused=i, retry_after=rule.span)
                new = value + rule.amount
            else:
                new = value + rule.amount
                if new > rule.limit:
                    return Verdict(refused=i, retry_after=rule.span)
            news.append(new)
        remaining: list[float] = []
        reset: list[float] = []
        for rule, new in zip(rules, news, strict=True):
            if rule.kind == GCRA:
                self._values[rule.key] = [new, new]
                per = rule.span / rule.limit
                remaining.append(math.floor((rule.span - (new - now)) / per + EPSILON))
                reset.append(new - now)
            else:
                expires = now + rule.span + KEEP_AFTER_PERIOD if rule.span else math.inf
                self._values[rule.key] = [new, expires]
                remaining.append(rule.limit - new)
                reset.append(rule.span)
        return Verdict(remaining=tuple(remaining), reset=tuple(reset))

    async def correct(self, corrections: Sequence[Correction]) -> None:
        now = self._clock()
        for fix in corrections:
            entry = self._values.get(fix.key)
            if entry is None or entry[1] <= now:
                continue
            if fix.kind == GCRA:
                if entry[0] <= now and fix.delta < 0:
                    continue  # already whole: nothing to give back
                entry[0] = max(max(entry[0], now) + fix.delta * fix.per, now)
                entry[1] = entry[0]
            else:
                entry[0] += fix.delta

    async def seed(self, key: str, units: int, ttl: float) -> None:
        now = self._clock()
        entry = self._values.get(key)
        if entry is None or entry[1] <= now:
            self._values[key] = [float(units), now + ttl + KEEP_AFTER_PERIOD if ttl else math.inf]

    async def value(self, key: str) -> float | None:
        entry = self._values.get(key)
        return None if entry is None or entry[1] <= self._clock() else entry[0]

    async def peek(self, rules: Sequence[Rule]) -> list[float | None]:
        """Each rule's counter as it stands, changing nothing: a GCRA counter's backlog (the
        seconds its window is used ahead of now, 0 when whole), another counter's value;
        None for a counter that does not exist (never charged, or expired)."""
        now = self._clock()
        read: list[float | None] = []
        for rule in rules:
            entry = self._values.get(rule.key)
            if rule.kind == GCRA:
                read.append(0.0 if entry is None else max(entry[0] - now, 0.0))
            else:
                read.append(None if entry is None or entry[1] <= now else entry[0])
        return read

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def _maybe_purge(self, now: float) -> None:
        self._until_purge -= 1
        if self._until_purge > 0:
            return
        self._until_purge = PURGE_EVERY
        for key in [k for k, (_, expires) in self._values.items() if expires <= now]:
            del self._values[key]


__all__ = ["MemoryCounters"]
