"""Hedged requests on the scripted `fake` provider.

The hedge timer runs on the gateway's injected ``sleep``: ``Immediate`` lets every hedge fire at
once (recording the delay it was asked for), ``Never`` keeps it from ever firing, so no test
depends on how fast this machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.fakes.gateway import fake_provider

from switchyard import Gateway, InvalidRequest, ProviderUnavailable
from switchyard.config.schema import HedgeSettings
from switchyard.providers.fake import FakeProvider, FakeSettings
from switchyard.routing.health import HealthBoard
from switchyard.routing.hedging import hedge_delay, hedged_pass
from switchyard.routing.tally import Tally
from switchyard.types import ChatChunk, ChatRequest, ChatResponse

HELLO = [{"role": "user", "content": "hello there"}]
SLOW = 30.0  # seconds: never reached, the test ends first


class Immediate:
    """A sleep that returns at once and records what it was asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Never(Immediate):
    """A sleep that never returns (the hedge timer never fires)."""

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.Event().wait()


def make_gateway(
    *deployments: tuple[str, dict[str, Any]],
    hedge: dict[str, Any] | None = None,
    sleep: Immediate | None = None,
    retries: int = 0,
    providers: dict[str, FakeProvider] | None = None,
) -> Gateway:
    config = {
        "providers": {name: {"type": "fake", **settings} for name, settings in deployments},
        "models": [
            {
                "name": "smart",
                "hedge": {"delay": 0.5} if hedge is None else hedge,
                "deployments": [
                    {
                        "provider": name,
                        "model": f"{name}-model",
                        "prices": {"input": 1, "output": 2},
                    }
                    for name, _ in deployments
                ],
            }
        ],
        "router": {"retries": retries},
    }
    return Gateway.from_config(config, sleep=sleep or Immediate(), providers=providers)


def settle(gateway: Gateway) -> None:
    """Every attempt left the in-flight count, winners and cancelled losers alike."""
    assert all(h.in_flight == 0 for h in gateway.health.deployments.values())


# -- plain calls --------------------------------------------------------------------------------


async def test_a_slow_first_deployment_is_hedged_and_the_fast_one_wins() -> None:
    sleep = Immediate()
    gateway = make_gateway(
        ("a", {"latency": SLOW, "reply": "a"}), ("b", {"reply": "b"}), sleep=sleep
    )
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "b"
    served = response.served_by
    assert served is not None
    assert (served.provider, served.attempts, served.hedged) == ("b", 2, True)
    assert sleep.delays == [0.5]
    assert fake_provider(gateway, "a").cancelled == 1  # the loser's upstream call was cancelled
    assert [(x.provider, x.answered, x.usage) for x in served.abandoned] == [("a", False, None)]
    assert served.extra_cost is None  # nothing known about a cancelled call
    settle(gateway)
    [view] = await gateway.breakers.views(["a/a-model"])
    assert view.consecutive_failures == 0  # cancelled: released, not counted as a failure


async def test_no_hedge_when_the_first_answers_in_time() -> None:
    sleep = Never()
    gateway = make_gateway(("a", {"reply": "a"}), ("b", {"reply": "b"}), sleep=sleep)
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "a"
    assert response.served_by and response.served_by.attempts == 1
    assert not response.served_by.hedged and response.served_by.abandoned == []
    assert fake_provider(gateway, "b").calls == 0


async def test_first_failing_fast_fails_over_at_once_without_waiting_for_the_delay() -> None:
    gateway = make_gateway(
        ("a", {"failure": {"status": 503}}), ("b", {"reply": "b"}), sleep=Never()
    )
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "b"
    served = response.served_by
    assert served and served.attempts == 2 and not served.hedged and served.abandoned == []


async def test_a_hedge_failing_does_not_fail_the_request_while_another_runs() -> None:
    # a answers slowly but well; the hedge b fails at once: the request waits for a.
    gateway = make_gateway(
        ("a", {"latency": 0.05, "reply": "a"}), ("b", {"failure": {"status": 500}})
    )
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "a"
    served = response.served_by
    assert served and served.attempts == 2 and not served.hedged
    settle(gateway)


async def test_the_first_failing_while_its_hedge_runs_lets_the_hedge_answer() -> None:
    gateway = make_gateway(
        ("a", {"latency": 0.01, "failure": {"status": 500}}),
        ("b", {"latency": 0.05, "reply": "b"}),
    )
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "b" and response.served_by and response.served_by.hedged


async def test_all_failing_raises_with_every_attempt_counted() -> None:
    gateway = make_gateway(
        ("a", {"latency": 0.01, "failure": {"status": 503}}),
        ("b", {"failure": {"status": 500}}),
        ("c", {"failure": {"status": 503}}),
        hedge={"delay": 0.5, "max_extra": 2},
    )
    with pytest.raises(ProviderUnavailable) as caught:
        await gateway.chat(model="smart", messages=HELLO)
    assert "3 attempt(s)" in str(caught.value)
    assert [fake_provider(gateway, n).calls for n in "abc"] == [1, 1, 1]
    settle(gateway)


async def test_passes_repeat_with_backoff_after_every_running_attempt_failed() -> None:
    sleep = Immediate()
    gateway = make_gateway(
        ("a", {"failure": {"status": 503, "times": 1}}),
        ("b", {"failure": {"status": 503, "times": 1}}),
        sleep=sleep,
        retries=1,
    )
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.served_by and response.served_by.attempts >= 3
    assert any(d != 0.5 for d in sleep.delays)  # a backoff between the passes


async def test_a_non_retryable_error_ends_the_request_and_cancels_the_hedge() -> None:
    gateway = make_gateway(
        ("a", {"latency": 0.02, "failure": {"status": 400, "body": "bad field"}}),
        ("b", {"latency": SLOW}),
    )
    with pytest.raises(InvalidRequest):
        await gateway.chat(model="smart", messages=HELLO)
    assert fake_provider(gateway, "b").calls == 1 and fake_provider(gateway, "b").cancelled == 1
    settle(gateway)


async def test_at_most_max_extra_hedges_run_at_once() -> None:
    sleep = Immediate()
    gateway = make_gateway(
        ("a", {"latency": 0.05, "reply": "a"}),
        ("b", {"latency": SLOW}),
        ("c", {"latency": SLOW}),
        hedge={"delay": 0.1, "max_extra": 1},
        sleep=sleep,
    )
    response = await gateway.chat(model="smart", messages=HELLO)
    assert response.text == "a"
    assert fake_provider(gateway, "c").calls == 0  # a and b were in flight: no room for c
    assert sleep.delays == [0.1]
    assert fake_provider(gateway, "b").cancelled == 1


async def test_deadline_ends_a_hedged_request() -> None:
    gateway = make_gateway(("a", {"latency": SLOW}), ("b", {"latency": SLOW}))
    with pytest.raises(Exception) as caught:
        await gateway.chat(model="smart", messages=HELLO, timeout=0.05)
    assert getattr(caught.value, "status_code", None) == 504
    assert fake_provider(gateway, "a").cancelled + fake_provider(gateway, "b").cancelled == 2
    settle(gateway)


class Gated(FakeProvider):
    """Answers (or yields its first chunk) only when the test opens the gate shared by every
    Gated provider, so several can answer in the same turn of the event loop."""

    def __init__(self, name: str, gate: asyncio.Event) -> None:
        super().__init__(name, FakeSettings(reply=name))
        self.gate = gate
        self.waiting = 0

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.waiting += 1
        await self.gate.wait()
        return await super().chat(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        self.waiting += 1
        await self.gate.wait()
        chunks = super().stream(request)
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]


async def both_waiting(*providers: Gated) -> None:
    for _ in range(1000):
        if all(p.waiting for p in providers):
            return
        await asyncio.sleep(0)
    raise AssertionError("the hedge never started")


async def test_a_loser_that_answered_too_is_accounted() -> None:
    gate = asyncio.Event()
    a, b = Gated("a", gate), Gated("b", gate)
    gateway = make_gateway(("a", {}), ("b", {}), providers={"a": a, "b": b})
    task = asyncio.create_task(gateway.chat(model="smart", messages=HELLO))
    await both_waiting(a, b)
    gate.set()  # both answer in the same turn of the event loop
    response = await task
    served = response.served_by
    assert served is not None and response.text == "a" and not served.hedged
    [loser] = served.abandoned
    assert (loser.provider, loser.answered) == ("b", True)
    assert loser.usage is not None and loser.usage.output_tokens == 1
    assert loser.cost is not None and served.extra_cost == loser.cost
    assert loser.cost.total == pytest.approx((loser.usage.input_tokens * 1 + 1 * 2) / 1e6)


# -- the delay ------------------------------------------------------------------------------------


def candidate_of(gateway: Gateway, name: str) -> Any:
    return next(c for c in gateway.router.aliases["smart"].candidates if c.provider.name == name)


def test_p95_delay_comes_from_recorded_latency_with_a_floor_and_a_default() -> None:
    gateway = make_gateway(("a", {}), ("b", {}))
    a = candidate_of(gateway, "a")
    health = HealthBoard()
    settings = HedgeSettings(delay="p95", min_delay=0.05, default_delay=0.7)
    assert hedge_delay(settings, health, a, streaming=False) == 0.7  # unmeasured
    for i in range(1, 101):
        health.finished(a.key, ok=True, seconds=i / 100)
    health.finished(a.key, ok=False, seconds=50.0)  # failures do not count
    assert hedge_delay(settings, health, a, streaming=False) == pytest.approx(0.96)
    assert hedge_delay(
        settings.model_copy(update={"delay": "p50"}), health, a, streaming=False
    ) == (pytest.approx(0.51))
    fast = HealthBoard()
    for _ in range(10):
        fast.finished(a.key, ok=True, seconds=0.001)
    assert hedge_delay(settings, fast, a, streaming=False) == 0.05  # the floor
    assert hedge_delay(settings, health, a, streaming=True) == 0.7  # no ttft measured yet
    for i in range(1, 21):
        health.first_token(a.key, i / 10)
    assert hedge_delay(settings, health, a, streaming=True) == pytest.approx(2.0)


async def test_p95_delay_is_used_by_the_gateway() -> None:
    sleep = Immediate()
    gateway = make_gateway(
        ("a", {"latency": SLOW}),
        ("b", {"reply": "b"}),
        hedge={"delay": "p95", "default_delay": 0.3},
        sleep=sleep,
    )
    for _ in range(20):
        gateway.health.finished("a/a-model", ok=True, seconds=0.2)
    await gateway.chat(model="smart", messages=HELLO)
    assert sleep.delays == [pytest.approx(0.2)]


def test_hedge_settings_validate() -> None:
    assert HedgeSettings(delay="p99").delay == "p99"
    assert HedgeSettings.model_validate({"delay": 1}).delay == 1.0
    for bad in ({"delay": "fast"}, {"delay": "p100"}, {"max_extra": 0}, {"extra": 1}):
        with pytest.raises(ValueError):
            HedgeSettings.model_validate(bad)


# -- streams --------------------------------------------------------------------------------------


async def test_streams_hedge_on_the_first_chunk() -> None:
    sleep = Immediate()
    gateway = make_gateway(
        ("a", {"latency": SLOW, "reply": "from a"}),
        ("b", {"reply": "from b", "tokens_per_second": 1000}),
        sleep=sleep,
    )
    stream = gateway.stream(model="smart", messages=HELLO)
    text = "".join([c.text or "" async for c in stream])
    assert text == "from b"
    served = stream.served_by
    assert served and (served.provider, served.attempts, served.hedged) == ("b", 2, True)
    # a's stream was closed before its first chunk
    assert fake_provider(gateway, "a").cancelled == 1
    assert [(x.provider, x.answered) for x in served.abandoned] == [("a", False)]
    settle(gateway)


async def test_a_stream_that_answered_too_late_is_closed() -> None:
    gate = asyncio.Event()
    a, b = Gated("a", gate), Gated("b", gate)
    gateway = make_gateway(("a", {}), ("b", {}), providers={"a": a, "b": b})
    stream = gateway.stream(model="smart", messages=HELLO)
    opening = asyncio.create_task(stream.start())
    await both_waiting(a, b)
    gate.set()  # both yield a first chunk in the same turn: a wins, b's stream is closed
    await opening
    served = stream.served_by
    assert served is not None and served.provider == "a" and not served.hedged
    assert [(x.provider, x.answered) for x in served.abandoned] == [("b", True)]
    assert b.cancelled == 1 and a.cancelled == 0
    assert "".join([c.text or "" async for c in stream]) == "a"
    settle(gateway)


async def test_hedged_pass_keeps_and_discards_late_answers() -> None:
    gateway = make_gateway(("a", {}), ("b", {}))
    gate = asyncio.Event()
    discarded: list[str] = []

    async def call(candidate: Any) -> str:
        await gate.wait()
        return candidate.key

    async def discard(value: str) -> None:
        discarded.append(value)

    tally = Tally()
    runner = gateway._runner
    deadline = runner.clock() + 10
    task = asyncio.create_task(
        hedged_pass(
            list(gateway.router.aliases["smart"].candidates),
            tally,
            allow=lambda c: runner.breakers.allow(c.key, c.breaker),
            attempt=lambda c: runner.attempt(
                c, call, deadline=deadline, limit=10.0, streaming=False
            ),
            delay=lambda c: 0.0,
            sleep=runner.sleep,
            max_extra=1,
            discard=discard,
        )
    )
    for _ in range(1000):
        if tally.attempts == 2:
            break
        await asyncio.sleep(0)
    gate.set()
    result = await task
    assert result is not None
    assert result.winner.value == "a/a-model" and not result.hedged
    assert [(x.candidate.key, x.value) for x in result.abandoned] == [("b/b-model", "b/b-model")]
    assert discarded == ["b/b-model"] and tally.attempts == 2
    settle(gateway)
