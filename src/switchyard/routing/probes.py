"""Active health: call providers' ``health_check()`` in the background, on a schedule.

Passive health (:mod:`switchyard.routing.health`) only learns from real traffic, so a
deployment nobody asked for in a while shows ``unknown`` and a dead one is found by the first
unlucky request. The prober asks each provider whose ``probe`` is enabled (by default the
self-hosted and free adapters, see :class:`~switchyard.providers.base.ProbeSettings`) every
``interval_seconds``, under ``timeout_seconds``, and records the verdict on the
:class:`~switchyard.routing.health.HealthBoard` for each of that provider's deployments.

One background task serves every provider: it probes those that are due (concurrently), then
sleeps until the next is due. Clock and sleep are injected, so tests step through rounds
without waiting. :meth:`HealthProber.aclose` cancels the task and waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchyard.errors import SwitchyardError, Timeout
from switchyard.providers.base import Provider
from switchyard.routing.candidate import Candidate
from switchyard.routing.health import HealthBoard
from switchyard.types import ChatRequest, Message

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe's verdict. ``ok`` is None when the provider has no way to check (its
    ``health_check()`` said "unknown"); ``error`` is the mapped error; ``at`` is wall-clock
    time."""

    ok: bool | None
    seconds: float
    at: float
    error: SwitchyardError | None = None


async def check_health(provider: Provider[Any], within: float) -> ProbeResult:
    """Run ``provider.health_check()`` once, allowing it ``within`` seconds."""
    return await _timed(provider, provider.health_check(), within)


async def check_chat(provider: Provider[Any], model: str, within: float) -> ProbeResult:
    """Ask ``model`` for one token: proves credentials, model name and the chat path."""
    request = ChatRequest(
        model=model, messages=[Message(role="user", content="ping")], max_tokens=1
    )
    return await _timed(provider, provider.chat(request), within)


async def _timed(provider: Provider[Any], work: Awaitable[object], within: float) -> ProbeResult:
    started = time.perf_counter()
    error: SwitchyardError | None = None
    outcome: object = None
    try:
        async with asyncio.timeout(within):
            outcome = await work
    except TimeoutError:
        error = Timeout(f"no answer to the probe within {within:g}s", provider=provider.name)
    except SwitchyardError as exc:
        error = exc
    except Exception as exc:  # an adapter bug must mark the provider down, not kill the prober
        logger.warning("health probe of %r raised %s", provider.name, type(exc).__name__)
        error = SwitchyardError(f"{type(exc).__name__}: {exc}", provider=provider.name)
    ok = None if outcome == "unknown" else error is None
    return ProbeResult(ok, time.perf_counter() - started, time.time(), error)


class HealthProber:
    """Probes the enabled providers in the background; :attr:`results` keeps the last
    verdict of each."""

    def __init__(
        self,
        providers: Mapping[str, Provider[Any]],
        candidates: Sequence[Candidate],
        health: HealthBoard,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``candidates``: every configured deployment; a provider's verdict is recorded for
        each of its own."""
        self.providers = providers
        self.deployments: dict[str, list[str]] = {
            name: [c.key for c in candidates if c.provider is provider]
            for name, provider in providers.items()
        }
        self.health = health
        self.clock = clock
        self.sleep = sleep
        self.results: dict[str, ProbeResult] = {}
        self._task: asyncio.Task[None] | None = None

    def enabled(self) -> list[str]:
        return [name for name, p in self.providers.items() if p.settings.probe_enabled()]

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the background task (inside the running loop); no-op when nothing is to be
        probed or it already runs."""
        if self.running or not self.enabled():
            return
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="switchyard-health-probes"
        )

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def probe(self, name: str) -> ProbeResult:
        """Probe ``name`` now and record the verdict (also used by ``POST .../test``)."""
        provider = self.providers[name]
        result = await check_health(provider, provider.settings.probe.timeout_seconds)
        self.record(name, result, self.deployments.get(name, ()))
        return result

    def record(self, name: str, result: ProbeResult, keys: Sequence[str]) -> None:
        self.results[name] = result
        if result.ok is None:  # nothing was checked: the deployments' health stays as it is
            return
        error = None if result.error is None else str(result.error)
        for key in keys:
            self.health.probed(key, ok=result.ok, seconds=result.seconds, error=error)

    async def _run(self) -> None:
        names = self.enabled()
        due = dict.fromkeys(names, self.clock())
        while True:
            now = self.clock()
            ready = [name for name in names if due[name] <= now]
            if ready:
                await asyncio.gather(*(self.probe(name) for name in ready))
                after = self.clock()
                for name in ready:
                    due[name] = after + self.providers[name].settings.probe.interval_seconds
            await self.sleep(max(min(due.values()) - self.clock(), 0.0))


__all__ = ["HealthProber", "ProbeResult", "check_chat", "check_health"]
