"""Active health probes: which providers are probed, on what schedule, and what is recorded.

The prober's sleep is injected: each sleep it asks for waits until the test advances the clock
by that much (``ManualSleep.tick``), so rounds are stepped through without waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import ProviderUnavailable, SwitchyardError
from switchyard.providers.fake import FakeProvider, FakeSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ManualSleep:
    """Each ``await sleep(s)`` parks until :meth:`tick` moves the clock on by ``s``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.asked: list[float] = []
        self._parked: asyncio.Queue[tuple[float, asyncio.Future[None]]] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.asked.append(seconds)
        await self._parked.put((seconds, future))
        await future

    async def parked(self) -> float:
        """Wait until the prober sleeps; how long it asked for."""
        seconds, future = await asyncio.wait_for(self._parked.get(), 2)
        self._parked.put_nowait((seconds, future))
        return seconds

    async def tick(self) -> None:
        seconds, future = await asyncio.wait_for(self._parked.get(), 2)
        self.clock.now += seconds
        future.set_result(None)


class Checked(FakeProvider):
    """A fake whose ``health_check`` follows a script (None: healthy; an error: raised)."""

    def __init__(self, name: str, settings: FakeSettings) -> None:
        super().__init__(name, settings)
        self.checks = 0
        self.verdicts: deque[SwitchyardError | None] = deque()
        self.hang = False

    async def health_check(self) -> None:
        self.checks += 1
        if self.hang:
            await asyncio.Event().wait()
        verdict = self.verdicts.popleft() if self.verdicts else None
        if verdict is not None:
            raise verdict


def config(**probe: Any) -> dict[str, Any]:
    return {
        "providers": {
            "free": {"type": "fake", "probe": probe or {"interval_seconds": 30}},
            "paid": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"},
        },
        "models": [
            {
                "name": "smart",
                "deployments": [
                    {"provider": "free", "model": "m1"},
                    {"provider": "free", "model": "m2"},
                    {"provider": "paid", "model": "gpt-4.1"},
                ],
            }
        ],
    }


def build(clock: Clock, sleep: ManualSleep, **probe: Any) -> tuple[Gateway, Checked]:
    cfg = SwitchyardConfig.model_validate(config(**probe))
    settings = cfg.providers["free"]
    assert isinstance(settings, FakeSettings)
    checked = Checked("free", settings)
    gateway = Gateway(cfg, providers={"free": checked}, clock=clock, probe_sleep=sleep)
    return gateway, checked


@pytest.mark.parametrize(
    ("settings", "enabled"),
    [
        ({"type": "fake"}, True),
        ({"type": "local"}, True),
        ({"type": "ollama"}, True),
        ({"type": "vllm", "base_url": "http://127.0.0.1:8000/v1"}, True),
        ({"type": "openai", "api_key": "k"}, False),
        ({"type": "anthropic", "api_key": "k"}, False),
        ({"type": "openai", "api_key": "k", "probe": {"enabled": True}}, True),
        ({"type": "fake", "probe": {"enabled": False}}, False),
    ],
)
def test_probes_default_to_self_hosted_providers(settings: dict[str, Any], enabled: bool) -> None:
    cfg = SwitchyardConfig.model_validate({"providers": {"p": settings}})
    assert cfg.providers["p"].probe_enabled() is enabled


async def test_probes_on_schedule_and_records_every_deployment() -> None:
    clock = Clock()
    sleep = ManualSleep(clock)
    gateway, checked = build(clock, sleep)
    async with gateway:
        assert await sleep.parked() == 30  # probed once at start, then sleeps an interval
        assert checked.checks == 1
        for key in ("free/m1", "free/m2"):
            view = gateway.health.view(key)
            assert view.probe_ok is True and view.status == "healthy"
        assert gateway.health.view("paid/gpt-4.1").probe_ok is None  # paid: not probed

        checked.verdicts.append(ProviderUnavailable("connection refused", provider="free"))
        await sleep.tick()
        assert await sleep.parked() == 30
        assert checked.checks == 2
        view = gateway.health.view("free/m1")
        assert view.status == "down" and view.probe_ok is False
        assert view.last_error is not None and "connection refused" in view.last_error
        result = gateway.prober.results["free"]
        assert not result.ok and isinstance(result.error, ProviderUnavailable)

        await sleep.tick()
        await sleep.parked()
        assert checked.checks == 3 and gateway.health.view("free/m1").status == "healthy"
    assert sleep.asked == [30, 30, 30]


async def test_a_hanging_health_check_times_out() -> None:
    clock = Clock()
    sleep = ManualSleep(clock)
    gateway, checked = build(clock, sleep, interval_seconds=5, timeout_seconds=0.01)
    checked.hang = True
    async with gateway:
        assert await sleep.parked() == 5
        result = gateway.prober.results["free"]
        assert not result.ok and result.error is not None and result.error.code == "timeout"


async def test_aclose_stops_the_background_task() -> None:
    clock = Clock()
    sleep = ManualSleep(clock)
    gateway, _ = build(clock, sleep)
    await gateway.start()
    await sleep.parked()
    assert gateway.prober.running
    assert any(t.get_name() == "switchyard-health-probes" for t in asyncio.all_tasks())
    await gateway.aclose()
    assert not gateway.prober.running
    assert not any(t.get_name() == "switchyard-health-probes" for t in asyncio.all_tasks())


async def test_nothing_to_probe_starts_no_task() -> None:
    cfg = config(enabled=False)
    async with Gateway.from_config(cfg) as gateway:
        assert not gateway.prober.running


def test_probe_settings_are_validated() -> None:
    from switchyard.config.load import load_config
    from switchyard.errors import ConfigError

    bad = {"providers": {"p": {"type": "fake", "probe": {"interval_seconds": 0}}}}
    with pytest.raises(ConfigError, match=r"providers\.p\.probe\.interval_seconds"):
        load_config(bad)
