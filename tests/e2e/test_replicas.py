"""Three `switchyard serve` processes sharing Redis and PostgreSQL behind a round-robin client:
one rate limit, one budget, one breaker state, one cache and one usage ledger across them; a
replica stopped with SIGTERM mid-load loses no usage row, one killed with SIGKILL loses at most
the rows of its requests in flight: those it had answered but not yet written were in its spool,
and the surviving replica writes them (README, "Running several workers and replicas")."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis

from tests.databases import read_usage
from tests.e2e.replicas import RoundRobin, Sent, upstream
from tests.e2e.served_process import ServerProcess, serve_process
from tests.services import REDIS_URL, require_redis

MASTER = "sk-master-7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"
FLUSH_SECONDS = 1.0  # rows wait this long in the queue: a SIGKILL finds some there
CONFIG = f"""
server: {{host: 127.0.0.1, port: PORT, master_key: {MASTER}, log_level: error}}
providers:
  up: {{type: openai, base_url: "UP/v1", api_key: none}}
  broken: {{type: openai, base_url: "UP/fail/v1", api_key: none}}
models:
  - name: smart       # $0.10 an output token: 5 tokens, $0.50 an answer
    deployments: [{{provider: up, model: m, prices: {{input: 0, output: 100000}}}}]
  - name: flaky
    deployments: [{{provider: broken, model: m, prices: {{input: 0, output: 0}}}}]
router:
  retries: 0
  circuit_breaker: {{failure_threshold: 2, recovery_timeout: 60}}
  breaker_store: {{backend: redis, url: "{REDIS_URL}", prefix: "PFX:breaker:"}}
limits: {{backend: redis, url: "{REDIS_URL}", prefix: "PFX:limits:"}}
cache: {{backend: redis, url: "{REDIS_URL}", prefix: "PFX:cache:", ttl_seconds: 120}}
storage: {{url: "PG", redis_url: "{REDIS_URL}", flush_seconds: {FLUSH_SECONDS}}}
tenants:
  - {{name: acme, limits: {{rpm: 5}}}}
  - {{name: payer, budget: {{usd: 2, period: total}}}}
  - {{name: ops}}
"""


@pytest.fixture
def prefix() -> Iterator[str]:
    require_redis()
    prefix = f"sytest:{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def _key(replica: ServerProcess, tenant: str) -> str:
    reply = httpx.post(
        f"{replica.url}/api/v1/admin/keys",
        json={"tenant": tenant},
        headers={"authorization": f"Bearer {MASTER}"},
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["key"])


def _code(sent: Sent) -> str | None:
    assert sent.reply is not None
    return sent.reply.json()["error"]["code"] if sent.status != 200 else None


def _load(client: RoundRobin, stop: threading.Event, threads: int = 6) -> list[threading.Thread]:
    def run() -> None:
        while not stop.is_set():
            try:
                client.chat("smart", uuid.uuid4().hex)
            except RuntimeError:  # every replica is down
                return

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    return workers


def _answered(client: RoundRobin, count: int) -> None:
    deadline = time.monotonic() + 20
    while sum(s.status == 200 for s in client.sent) < count:
        assert time.monotonic() < deadline, "the load did not get answers"
        time.sleep(0.02)


def _rows(url: str, wanted: set[str]) -> set[str]:
    """The request ids of ``wanted`` that have a usage row, once the ledgers wrote them."""
    deadline = time.monotonic() + 10
    while True:
        rows, _ = asyncio.run(read_usage(url))
        found = {r["request_id"] for r in rows} & wanted
        if found == wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_three_replicas_share_limits_budget_breaker_cache_and_ledger(
    postgres_url: str, prefix: str, tmp_path: Path
) -> None:
    with upstream(latency=0.02) as up, ExitStack() as stack:
        config = CONFIG.replace("UP", up.base_url).replace("PG", postgres_url)
        config = config.replace("PFX", prefix)
        replicas = []
        for i in range(3):
            (tmp_path / f"r{i}").mkdir()
            replicas.append(stack.enter_context(serve_process(config, tmp_path / f"r{i}")))
        urls = [r.url for r in replicas]
        every = []  # every request the test sent, for the ledger

        # one rate limit: acme's 5 rpm, whichever replica answers
        limited = RoundRobin(urls, _key(replicas[0], "acme"))
        statuses = [limited.chat("smart", f"limit {i}").status for i in range(6)]
        assert statuses == [200] * 5 + [429]
        assert [s.replica for s in limited.sent] == [0, 1, 2, 0, 1, 2]
        for i in range(3):  # refused on every replica
            assert _code(limited.chat("smart", "more", replica=i)) == "rate_limit_exceeded"
        every += limited.sent

        # one budget: $2 for payer, $1 held per request (max_tokens 10), $0.50 spent each
        paying = RoundRobin(urls, _key(replicas[1], "payer"))
        for i in range(12):
            if paying.chat("smart", f"budget {i}", max_tokens=10).status != 200:
                break
        spent = [s for s in paying.sent if s.status == 200]
        assert 2 <= len(spent) <= 4  # one $2 budget, not one on each replica (up to 12 then)
        assert _code(paying.sent[-1]) == "insufficient_quota"
        for i in range(3):
            assert _code(paying.chat("smart", "more", replica=i, max_tokens=10)) == (
                "insufficient_quota"
            )
        every += paying.sent

        # one breaker: opened by failures through replica 0, open on 1 and 2 without a call
        ops = RoundRobin(urls, _key(replicas[2], "ops"))
        for _ in range(2):
            assert ops.chat("flaky", "x", replica=0).status in (502, 503)
        assert up.answered["/fail/v1/chat/completions"] == 2
        for i in (1, 2):
            assert ops.chat("flaky", "x", replica=i).status == 503
            breakers = httpx.get(
                f"{urls[i]}/api/v1/circuit-breakers", headers={"authorization": f"Bearer {MASTER}"}
            ).text
            assert '"open"' in breakers, breakers
        assert up.answered["/fail/v1/chat/completions"] == 2  # the open breaker called nobody

        # one cache: answered by replica 0, a hit on 1 and 2
        calls = up.answered["/v1/chat/completions"]
        first = ops.chat("smart", "cache me", replica=0)
        assert first.reply is not None and first.reply.headers["x-switchyard-cache"] == "miss"
        for i in (1, 2):
            hit = ops.chat("smart", "cache me", replica=i)
            assert hit.reply is not None and hit.reply.headers["x-switchyard-cache"] == "hit"
            assert hit.reply.json()["choices"] == first.reply.json()["choices"]
        assert up.answered["/v1/chat/completions"] == calls + 1
        every += ops.sent

        # one ledger: a row for every request, whichever replica answered it
        ids = {s.request_id for s in every}
        assert _rows(postgres_url, ids) == ids

        # SIGTERM mid-load: the replica drains and writes every row it owes
        load, stop = RoundRobin(urls, _key(replicas[0], "ops")), threading.Event()
        workers = _load(load, stop)
        _answered(load, 30)
        assert replicas[2].stop(timeout=30) == 0
        _answered(load, 60)
        stop.set()
        for worker in workers:
            worker.join()
        answered = {s.request_id for s in load.sent if s.status == 200}
        by_stopped = [s for s in load.sent if s.replica == 2 and s.status == 200]
        assert by_stopped  # it served some of the load before it stopped
        assert _rows(postgres_url, answered) == answered

        # SIGKILL mid-load: it loses at most its requests in flight; what it had answered but
        # not written yet (queued for flush_seconds) the survivor takes from its spool
        killed, stop = RoundRobin(urls[:2], _key(replicas[0], "ops")), threading.Event()
        workers = _load(killed, stop)
        _answered(killed, 30)
        killed_at = time.monotonic()
        replicas[1].process.kill()
        _answered(killed, 60)
        stop.set()
        for worker in workers:
            worker.join()
        assert replicas[0].stop(timeout=30) == 0  # the survivor writes all it owes
        on_killed = [s for s in killed.sent if s.replica == 1 and s.started < killed_at]
        in_flight = [s for s in on_killed if s.status is None]
        answered_there = {s.request_id for s in on_killed if s.status is not None}
        written = _rows(postgres_url, answered_there | {s.request_id for s in in_flight})
        lost = answered_there - written
        assert not lost, f"{len(lost)} rows of answered requests lost ({len(in_flight)} in flight)"
        survivors = {s.request_id for s in killed.sent if s.replica == 0 and s.status == 200}
        assert _rows(postgres_url, survivors) == survivors
