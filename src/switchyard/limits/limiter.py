"""The policy around the counters: seeding budgets from the ledger, the backend-error policy,
corrections off the request path, and what readiness reports.

``acquire`` is the one call on the request path (one Redis round trip; a second only the first
time a budget counter is seen in a period). When the backend cannot be reached, ``open``
admits the request (logged at most once per ``log_interval``, counted in ``errors``) and
``closed`` raises :class:`~switchyard.errors.LimitsUnavailable`; either way Redis is not asked
again for ``reconnect_interval`` seconds, so an outage adds no per-request timeouts, and the
first call after that tries again: recovery needs no restart.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from switchyard.errors import LimitsUnavailable
from switchyard.limits.rules import (
    GCRA,
    QUOTA,
    BackendUnavailable,
    Correction,
    Rule,
    Scope,
    Verdict,
)
from switchyard.limits.settings import LimitsSettings

log = logging.getLogger("switchyard.limits")


class Counters(Protocol):
    async def acquire(
        self, rules: Sequence[Rule], corrections: Sequence[Correction] = ()
    ) -> Verdict: ...
    async def correct(self, corrections: Sequence[Correction]) -> None: ...
    async def seed(self, key: str, units: int, ttl: float) -> None: ...
    async def value(self, key: str) -> float | None: ...
    async def peek(self, rules: Sequence[Rule]) -> list[float | None]: ...
    async def ping(self) -> None: ...
    async def aclose(self) -> None: ...


SpendOf = Callable[[Scope], Awaitable[int]]


class Limiter:
    def __init__(
        self,
        settings: LimitsSettings,
        counters: Counters | None = None,
        *,
        spend: SpendOf | None = None,
        reconnect_interval: float = 0.5,
        log_interval: float = 60.0,
        flush_interval: float = 0.02,
    ) -> None:
        self.settings = settings
        self.counters: Counters = counters or build_counters(settings)
        self.spend = spend
        self.closed_policy = settings.on_backend_error == "closed"
        self.reconnect_interval = reconnect_interval
        self.log_interval = log_interval
        self.available = True
        self.errors = 0  # admissions the backend could not answer (admitted or refused)
        self._skip_until = 0.0
        self._logged_at = -math.inf
        self._pending: set[asyncio.Task[None]] = set()
        # corrections not sent yet, summed per counter; sent every flush_interval seconds
        self.flush_interval = flush_interval
        self._unsent: dict[str, Correction] = {}
        self._flush: asyncio.TimerHandle | None = None

    async def acquire(self, rules: Sequence[Rule]) -> Verdict | None:
        """Charge every rule, or none (the verdict names the one over its limit). None: the
        backend is unreachable and the policy is ``open`` (the request goes unchecked)."""
        if self._skip_until and time.monotonic() < self._skip_until:
            self._policy(None)
            return None
        corrections = self._take_corrections()  # they ride along: no round trip of their own
        try:
            for _ in range(4):  # a seed is needed at most once per budget counter
                verdict = await self.counters.acquire(rules, corrections)
                corrections = []
                if verdict.seed is None:
                    self._recovered()
                    return verdict
                await self._seed(rules[verdict.seed])
        except BackendUnavailable as exc:
            self._policy(exc)
            return None
        self._policy(BackendUnavailable("budget counters could not be seeded"))
        return None

    def correct(self, corrections: Sequence[Correction]) -> None:
        """Apply ``corrections`` in the background (the answer does not wait for them): they
        are summed per counter and sent with the next admission's script, or alone after
        ``flush_interval`` seconds without one. Until then a counter still holds the estimate
        (or a budget the hold), which errs on the side of refusing."""
        if not corrections:
            return
        unsent = self._unsent
        for fix in corrections:
            earlier = unsent.get(fix.key)
            unsent[fix.key] = (
                fix if earlier is None else fix._replace(delta=earlier.delta + fix.delta)
            )
        if self._flush is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # a stream finalised outside the loop: nothing can be sent
                self._unsent.clear()
                return
            self._flush = loop.call_later(self.flush_interval, self._send_corrections)

    def _take_corrections(self) -> list[Correction]:
        if not self._unsent:
            return []
        unsent, self._unsent = self._unsent, {}
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        return [fix for fix in unsent.values() if fix.delta]

    def _send_corrections(self) -> None:
        """No admission came within ``flush_interval``: send the corrections alone."""
        self._flush = None
        fixes = self._take_corrections()
        if fixes:
            self._spawn(self._correct(fixes))

    async def drain(self) -> None:
        """Send the corrections now and wait until every one is applied (tests, shutdown)."""
        if self._flush is not None:
            self._flush.cancel()
            self._send_corrections()
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def used(self, rules: Sequence[Rule]) -> list[float | None] | None:
        """How much of each rule's limit is used now, in its unit, changing nothing (the
        dashboard's limits page): requests or tokens in the GCRA window, tokens of the quota's
        period, budget units spent and held in the budget's period (a budget counter not seeded
        yet: the ledger's spend, as a seed would read it). None for the whole: the backend
        cannot be read now; None for one budget: the ledger did not answer."""
        if self._skip_until and time.monotonic() < self._skip_until:
            return None
        try:
            read = await self.counters.peek(rules)
        except BackendUnavailable as exc:
            self._unreachable(exc)
            return None
        self._recovered()
        used: list[float | None] = []
        for rule, value in zip(rules, read, strict=True):
            if rule.kind == GCRA:  # a backlog of seconds; each unit costs span / limit of it
                per = rule.span / rule.limit
                used.append(float(min(math.ceil((value or 0.0) / per - 1e-4), rule.limit)))
            elif value is not None:
                used.append(value)
            elif rule.kind == QUOTA:
                used.append(0.0)
            else:
                used.append(await self._spent(rule))
        return used

    async def _spent(self, rule: Rule) -> float | None:
        if self.spend is None or rule.scope is None:
            return 0.0
        try:
            return float(await self.spend(rule.scope))
        except Exception:  # the ledger's database: unknown, not zero
            return None

    async def check(self) -> dict[str, Any]:
        """For ``/readyz``: the backend, whether it answers now, and the policy."""
        try:
            await self.counters.ping()
        except BackendUnavailable as exc:
            self._unreachable(exc)
        else:
            self._recovered()
        return {
            "backend": self.settings.backend,
            "status": "ok" if self.available else "unavailable",
            "on_backend_error": self.settings.on_backend_error,
        }

    async def aclose(self) -> None:
        await self.drain()
        await self.counters.aclose()

    # -- helpers ----------------------------------------------------------------------------

    async def _seed(self, rule: Rule) -> None:
        units = 0
        if self.spend is not None and rule.scope is not None:
            try:
                units = await self.spend(rule.scope)
            except Exception as exc:  # the ledger's database: no seed, no unchecked budget
                raise BackendUnavailable(
                    f"the ledger did not answer ({type(exc).__name__})"
                ) from None
        await self.counters.seed(rule.key, units, rule.span)

    async def _correct(self, corrections: list[Correction]) -> None:
        if self._skip_until and time.monotonic() < self._skip_until:
            return
        try:
            await self.counters.correct(corrections)
        except BackendUnavailable as exc:
            self._unreachable(exc)

    def _policy(self, exc: BaseException | None) -> None:
        self.errors += 1
        if exc is not None:
            self._unreachable(exc)
        if self.closed_policy:
            raise LimitsUnavailable(
                "rate limits cannot be checked: their backend is unreachable; try again shortly",
                retry_after=self.reconnect_interval,
            )

    def _unreachable(self, exc: BaseException) -> None:
        self.available = False
        now = time.monotonic()
        self._skip_until = now + self.reconnect_interval
        if now - self._logged_at >= self.log_interval:
            self._logged_at = now
            what = "admitting requests unchecked" if not self.closed_policy else "refusing (503)"
            log.warning("limits backend unreachable (%s); %s for now", exc, what)

    def _recovered(self) -> None:
        if not self.available:
            self.available = True
            self._skip_until = 0.0
            log.warning("limits backend reachable again")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


def build_counters(settings: LimitsSettings) -> Counters:
    if settings.backend == "memory":
        from switchyard.limits.memory import MemoryCounters

        return MemoryCounters()
    from switchyard.limits.redis_store import RedisCounters  # the optional redis extra

    return RedisCounters(settings.url, prefix=settings.prefix, timeout=settings.timeout_seconds)


__all__ = ["Counters", "Limiter", "SpendOf", "build_counters"]
