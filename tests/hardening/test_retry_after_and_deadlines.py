"""Hostile ``Retry-After`` values and client timeouts: never a 500, never a request held open.

An upstream decides what ``Retry-After`` says, a client what ``switchyard.timeout`` says; the
gateway believes neither past its own limits: a wait is a finite number of seconds, at most
``router.max_retry_after_seconds`` and never past ``router.deadline_seconds``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchyard import Gateway, InvalidRequest, RateLimited
from switchyard.error_replies import retry_after_seconds
from switchyard.errors import ProviderUnavailable, SwitchyardError
from switchyard.providers.fake import FakeFailure
from switchyard.resilience.breaker import MemoryBreakers
from switchyard.resilience.retry import RETRY_AFTER_CEILING, RetryPolicy, sane_retry_after
from switchyard.routing.attempts import AttemptRunner
from switchyard.routing.health import HealthBoard
from switchyard.routing.router import Candidate
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider
from tests.fakes.openai_upstream import OpenAIUpstream, Reply
from tests.fakes.openapi_schema import assert_valid

HELLO: Any = [{"role": "user", "content": "hello"}]
DAY = int(RETRY_AFTER_CEILING)


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "inf"}, None),
        ({"retry-after": "-inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "99999999999999999999"}, RETRY_AFTER_CEILING),
        ({"retry-after": "1e400"}, None),
        ({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, RETRY_AFTER_CEILING),
        ({"retry-after": "Mon, 01 Jan 1990 00:00:00 GMT"}, 0.0),
        ({"retry-after": "Feb 9090366262 550:56:73 44508599689465329"}, None),  # OverflowError
        ({"retry-after-ms": "1e400"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({"retry-after-ms": "-1"}, None),
        ({"retry-after-ms": "nan", "retry-after": "4"}, 4.0),  # a bad -ms falls back
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
    ],
)
def test_retry_after_is_parsed_defensively(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers) == seconds


@pytest.mark.parametrize(
    ("value", "sane"),
    [(math.inf, None), (math.nan, None), (-1.0, None), (None, None), (1e30, 86_400.0), (2.5, 2.5)],
)
def test_sane_retry_after(value: float | None, sane: float | None) -> None:
    assert sane_retry_after(value) == sane


# -- the wait between passes ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_wait_gives_up_past_the_cap_and_past_the_deadline() -> None:
    policy = RetryPolicy(initial=0.0, maximum=0.0, max_retry_after=60.0)
    assert policy.wait(0, 59.0, remaining=100.0) == 59.0
    assert policy.wait(0, 61.0, remaining=100.0) is None  # longer than the gateway waits
    assert policy.wait(0, 59.0, remaining=59.0) is None  # would use up the deadline
    assert policy.wait(0, math.inf, remaining=100.0) == 0.0  # nonsense is ignored
    assert policy.wait(0, math.nan, remaining=100.0) == 0.0


class Recorder:
    """A sleep that advances the fake clock and records the delays."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.now += seconds


def runner(clock: Clock, sleep: Recorder, **policy: Any) -> AttemptRunner:
    return AttemptRunner(
        RetryPolicy(rng=random.Random(3), **policy),
        MemoryBreakers(clock),
        HealthBoard(clock),
        clock,
        sleep,
    )


def candidate(gateway: Gateway) -> Candidate:
    return gateway.router.route("only").candidates[0]


@pytest.mark.parametrize("retry_after", [None, 0.5, 5.0, 30.0, 59.0, 61.0, 1e9, math.inf])
async def test_the_loop_never_sleeps_past_the_deadline_or_the_cap(
    retry_after: float | None,
) -> None:
    clock = Clock()
    sleep = Recorder(clock)
    gateway = Gateway.from_config(
        {
            "providers": {"a": {"type": "fake"}},
            "models": [{"name": "only", "deployments": [{"provider": "a", "model": "m"}]}],
        }
    )
    calls = 0

    async def refuse(_: Candidate) -> None:
        nonlocal calls
        calls += 1
        raise RateLimited("slow down", provider="a", retry_after=retry_after)

    deadline = clock.now + 40.0
    loop = runner(clock, sleep, retries=5, initial=1.0, maximum=8.0, max_retry_after=60.0)
    with pytest.raises(RateLimited) as caught:
        await loop.run([candidate(gateway)], refuse, deadline=deadline, attempt_timeout=lambda c: 5)
    assert clock.now < deadline
    assert all(d <= 60.0 for d in sleep.delays)
    if retry_after is not None and 40.0 < retry_after < math.inf:  # inf says nothing
        assert sleep.delays == [] and calls == 1  # not worth waiting for: give up at once
    final = caught.value.retry_after
    assert final is None or (math.isfinite(final) and 0 <= final <= RETRY_AFTER_CEILING)


async def test_a_pass_with_a_long_retry_after_gives_up_without_sleeping() -> None:
    clock = Clock()
    sleep = Recorder(clock)
    gateway = Gateway.from_config(
        {
            "providers": {"a": {"type": "fake"}},
            "models": [{"name": "only", "deployments": [{"provider": "a", "model": "m"}]}],
        }
    )
    errors: list[SwitchyardError] = [
        ProviderUnavailable("down", provider="a"),
        RateLimited("slow down", provider="a", retry_after=3600.0),
    ]

    async def fail(_: Candidate) -> None:
        raise errors.pop(0)

    loop = runner(clock, sleep, retries=3, initial=0.1, max_retry_after=60.0)
    with pytest.raises(RateLimited) as caught:
        await loop.run(
            [candidate(gateway)], fail, deadline=clock.now + 7200, attempt_timeout=lambda c: 5
        )
    assert len(sleep.delays) == 1 and sleep.delays[0] <= 0.1  # the 503's backoff only
    assert caught.value.retry_after == 3600.0  # passed on: when to come back


# -- through the served gateway ------------------------------------------------------------


def upstream_config(base_url: str, **router: Any) -> dict[str, Any]:
    return {
        "providers": {"up": {"type": "openai", "base_url": base_url, "api_key": "sk-up"}},
        "models": [{"name": "m", "deployments": [{"provider": "up", "model": "gpt-4o-mini"}]}],
        "router": {"retries": 1, "backoff": {"initial": 0.01, "maximum": 0.05}, **router},
    }


@pytest.fixture(scope="module")
def served(_openai_upstream_server: OpenAIUpstream) -> Iterator[ServedGateway]:
    config = upstream_config(_openai_upstream_server.base_url, deadline_seconds=5)
    with serve(config) as s:
        yield s


def post(served: ServedGateway, **body: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    reply = httpx.post(
        f"{served.base_url}/chat/completions",
        json={"model": "m", "messages": HELLO, **body},
        timeout=10,
    )
    return reply, time.monotonic() - started


def assert_sane_error(reply: httpx.Response, status: int) -> None:
    assert reply.status_code == status, reply.text
    assert_valid("ErrorResponse", reply.json())
    if "retry-after" in reply.headers:
        assert 0 <= int(reply.headers["retry-after"]) <= DAY
        assert 0 <= int(reply.headers["retry-after-ms"]) <= DAY * 1000


IGNORED = [  # nonsense: the gateway backs off as if no Retry-After came, and the retry succeeds
    ("retry-after", "inf"),
    ("retry-after", "nan"),
    ("retry-after", "-5"),
    ("retry-after", "garbage"),
    ("retry-after-ms", "1e400"),
    ("retry-after-ms", "nan"),
    ("retry-after-ms", "-1"),
]
TOO_LONG = [  # more than the gateway waits: the 429 goes back at once, with a day at most
    ("retry-after", "99999999999999999999"),
    ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
]


@pytest.mark.parametrize(("name", "value"), IGNORED)
def test_nonsense_retry_after_is_ignored_and_retried(
    served: ServedGateway, openai_upstream: OpenAIUpstream, name: str, value: str
) -> None:
    openai_upstream.script(Reply.error(429, "slow down", headers={name: value}))
    reply, seconds = post(served)
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "hello"
    assert len(openai_upstream.requests) == 2 and seconds < 2


@pytest.mark.parametrize(("name", "value"), TOO_LONG)
def test_huge_retry_after_returns_the_429_at_once_capped(
    served: ServedGateway, openai_upstream: OpenAIUpstream, name: str, value: str
) -> None:
    openai_upstream.script(Reply.error(429, "slow down", headers={name: value}))
    reply, seconds = post(served)
    assert_sane_error(reply, 429)
    assert reply.headers["retry-after"] == str(DAY)
    assert len(openai_upstream.requests) == 1 and seconds < 2


def test_a_retry_after_past_the_deadline_is_passed_on_not_waited(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.error(429, "slow down", headers={"retry-after": "30"}))
    reply, seconds = post(served)
    assert_sane_error(reply, 429)
    assert reply.headers["retry-after"] == "30" and seconds < 2


def test_retry_after_above_max_retry_after_seconds_is_not_waited(
    openai_upstream: OpenAIUpstream,
) -> None:
    config = upstream_config(openai_upstream.base_url, max_retry_after_seconds=0.5)
    with serve(config) as served:
        openai_upstream.script(Reply.error(429, "slow down", headers={"retry-after": "3"}))
        reply, seconds = post(served)
    assert_sane_error(reply, 429)
    assert reply.headers["retry-after"] == "3"
    assert len(openai_upstream.requests) == 1 and seconds < 1.5


def test_non_finite_retry_after_from_a_provider_never_reaches_the_client() -> None:
    config = {
        "providers": {"a": {"type": "fake"}},
        "models": [{"name": "only", "deployments": [{"provider": "a", "model": "m"}]}],
        "router": {"retries": 0},
    }
    with serve(config) as served:
        fake_provider(served.gateway, "a").script(FakeFailure(status=429, retry_after=math.inf))
        reply, _ = post(served, model="only")
    assert_sane_error(reply, 429)
    assert "retry-after" not in reply.headers


# -- the client's timeout ----------------------------------------------------------------


def test_a_client_timeout_cannot_extend_the_deadline(openai_upstream: OpenAIUpstream) -> None:
    config = upstream_config(openai_upstream.base_url, deadline_seconds=1)
    with serve(config) as served:
        openai_upstream.script(Reply.error(429, "slow down", headers={"retry-after": "20"}))
        reply, seconds = post(served, switchyard={"timeout": 1e9})
    assert_sane_error(reply, 429)
    assert seconds < 2 and len(openai_upstream.requests) == 1


def test_a_client_timeout_shortens_the_deadline(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.json({}, delay=3))
    reply, seconds = post(served, switchyard={"timeout": 0.3})
    assert_sane_error(reply, 504)
    assert seconds < 2


@pytest.mark.parametrize("timeout", [-1, "soon"])
def test_a_bad_client_timeout_is_a_400_naming_it(served: ServedGateway, timeout: Any) -> None:
    reply, _ = post(served, switchyard={"timeout": timeout})
    assert_sane_error(reply, 400)
    assert reply.json()["error"]["param"] == "switchyard.timeout"


@pytest.mark.parametrize("seconds", [math.inf, math.nan, -1.0])
async def test_a_non_finite_library_timeout_is_invalid(seconds: float) -> None:
    gateway = Gateway.from_config(
        {
            "providers": {"a": {"type": "fake"}},
            "models": [{"name": "only", "deployments": [{"provider": "a", "model": "m"}]}],
        }
    )
    with pytest.raises(InvalidRequest) as caught:
        await gateway.chat(model="only", messages=HELLO, timeout=seconds)
    assert caught.value.param == "timeout"
