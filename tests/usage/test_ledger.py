"""The usage ledger on real SQLite and PostgreSQL: one exact row per request, nothing lost."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from switchyard import Gateway
from switchyard.records.record import AttemptRecord
from switchyard.storage.settings import StorageSettings
from switchyard.types import Usage
from switchyard.usage.ledger import UsageLedger
from tests.databases import a_record, read_usage
from tests.e2e.served import serve

HELLO: Any = [{"role": "user", "content": "hello there"}]
PRICES = {"input": 1.5, "output": 2.25}


def config(url: str) -> dict[str, Any]:
    return {
        "providers": {
            "f": {"type": "fake", "reply": "hi from the fake"},
            "down": {"type": "fake", "failure": {"status": 500}},
        },
        "models": [
            {"name": "smart", "deployments": [{"provider": "f", "model": "m", "prices": PRICES}]},
            {"name": "broken", "deployments": [{"provider": "down", "model": "x"}]},
        ],
        "router": {"retries": 1, "backoff": {"initial": 0.001, "maximum": 0.001}},
        "storage": {"url": url, "flush_seconds": 0.05},
    }


def hand_cost(tokens_in: int, tokens_out: int) -> Decimal:
    total = tokens_in * Decimal("1.5") + tokens_out * Decimal("2.25")
    return (total / 10**6).quantize(Decimal("1e-10"))


async def test_every_request_served_is_one_exact_row(storage_url: str) -> None:
    expected: list[tuple[int, int]] = []
    with serve(config(storage_url)) as served:
        client = served.client()
        for _ in range(3):
            reply = client.chat.completions.create(model="smart", messages=HELLO)
            assert reply.usage is not None
            expected.append((reply.usage.prompt_tokens, reply.usage.completion_tokens))
        for _ in range(2):
            chunks = list(
                client.chat.completions.create(
                    model="smart",
                    messages=HELLO,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            last = chunks[-1].usage
            assert last is not None
            expected.append((last.prompt_tokens, last.completion_tokens))
        with pytest.raises(openai.APIStatusError) as failed:
            client.chat.completions.create(model="broken", messages=HELLO)
    # the server has stopped: its shutdown flushed the ledger
    rows, attempts = await read_usage(storage_url)
    assert len(rows) == 6
    ok = [r for r in rows if r["alias"] == "smart"]
    assert [(r["input_tokens"], r["output_tokens"]) for r in ok] == expected
    assert [r["kind"] for r in ok] == ["chat"] * 3 + ["stream"] * 2
    for row, (tokens_in, tokens_out) in zip(ok, expected, strict=True):
        assert row["status"] == "success" and row["http_status"] == 200
        assert row["provider"] == "f" and row["model"] == "m"
        assert row["priced"] is True
        assert row["cost_usd"] == hand_cost(tokens_in, tokens_out) > 0
        assert row["created_at"].utcoffset() in (None, timedelta(0))
        assert row["attempts"] == 1
    (bad,) = [r for r in rows if r["alias"] == "broken"]
    assert bad["status"] == "error" and bad["http_status"] == failed.value.status_code
    assert bad["error_type"] and bad["cost_usd"] == 0
    assert bad["attempts"] == 2  # the first try and one retry, both kept
    by_row: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_row.setdefault(attempt["usage_id"], []).append(attempt)
    assert [a["outcome"] for a in by_row[bad["id"]]] == ["error", "error"]
    assert {a["deployment"] for a in by_row[bad["id"]]} == {"down/x"}
    assert {a["status"] for a in by_row[bad["id"]]} == {500}
    assert all(len(by_row[r["id"]]) == 1 for r in ok)


async def test_a_failing_batch_is_retried_and_nothing_is_lost(storage_url: str) -> None:
    """The database refuses the first writes: requests still succeed, records keep queueing,
    and once it answers again every row is written."""
    settings = StorageSettings(url=storage_url, flush_seconds=0.01, batch_size=3)
    engine = create_async_engine(storage_url)
    refusals = {"left": 4}

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USAGE") and refusals["left"] > 0:
            refusals["left"] -= 1
            raise OperationalError(statement, {}, ConnectionRefusedError("database down"))

    event.listen(engine.sync_engine, "before_cursor_execute", refuse)

    async def quick(_: float) -> None:
        await asyncio.sleep(0.01)

    ledger = UsageLedger(settings, engine=engine, sleep=quick)
    await ledger.start()
    gateway = Gateway.from_config(
        {k: v for k, v in config(storage_url).items() if k != "storage"}, sinks=[ledger]
    )
    async with gateway:
        for _ in range(10):
            reply = await gateway.chat(model="smart", messages=HELLO)
            assert reply.choices[0].message.content == "hi from the fake"
            await asyncio.sleep(0.005)
        await ledger.aclose()
    assert refusals["left"] == 0 and ledger.retries >= 4
    assert ledger.written == 10 and ledger.dropped == 0
    rows, _ = await read_usage(storage_url)
    assert len(rows) == 10


async def test_a_full_queue_holds_a_request_briefly_then_counts_the_overflow(
    sqlite_url: str,
) -> None:
    """The writer is stuck on a database that refuses: once the queue is full, a new request
    waits ``full_wait_seconds`` for room, then goes on, and its record is dropped and counted;
    everything queued before is written once the database answers."""
    settings = {**config(sqlite_url)["storage"], "queue_size": 1, "batch_size": 1}
    settings["full_wait_seconds"] = 0.2
    gateway = Gateway.from_config({**config(sqlite_url), "storage": settings})
    assert gateway.ledger is not None
    down = {"on": True}

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USAGE") and down["on"]:
            raise OperationalError(statement, {}, ConnectionRefusedError("database down"))

    event.listen(gateway.ledger.engine.sync_engine, "before_cursor_execute", refuse)
    loop = asyncio.get_running_loop()
    async with gateway:
        took = []
        for _ in range(3):
            started = loop.time()
            await gateway.chat(model="smart", messages=HELLO)
            took.append(loop.time() - started)
            await asyncio.sleep(0.1)  # the writer takes the first record and retries it
        assert gateway.ledger.full and gateway.ledger.dropped == 1
        assert took[0] < 0.15 and took[1] < 0.15 and took[2] >= 0.2
        down["on"] = False
    assert gateway.ledger.written == 2
    rows, _ = await read_usage(sqlite_url)
    assert len(rows) == 2


async def test_a_full_queue_counts_and_logs_the_overflow_without_blocking(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = UsageLedger(StorageSettings(url=sqlite_url, queue_size=2))
    with caplog.at_level(logging.WARNING, "switchyard.usage"):
        for i in range(5):
            ledger.emit(a_record(f"r{i}"))
    assert ledger.queued == 2 and ledger.dropped == 3
    warnings = [r for r in caplog.records if r.name == "switchyard.usage"]
    assert len(warnings) == 1 and "dropped" in warnings[0].getMessage()  # rate-limited
    await ledger.start()
    await ledger.aclose()
    rows, _ = await read_usage(sqlite_url)
    assert [r["request_id"] for r in rows] == ["r0", "r1"]


async def test_an_unpriced_deployment_is_null_cost_not_zero(sqlite_url: str) -> None:
    ledger = UsageLedger(StorageSettings(url=sqlite_url))
    record = a_record()
    record.usage = Usage(input_tokens=3, output_tokens=4)
    record.priced = False
    ledger.emit(record)
    await ledger.start()
    await ledger.aclose()
    (row,), _ = await read_usage(sqlite_url)
    assert row["cost_usd"] is None and row["priced"] is False
    assert (row["input_tokens"], row["output_tokens"]) == (3, 4)


async def test_a_write_in_progress_survives_the_writer_being_cancelled(sqlite_url: str) -> None:
    """A loop shutting down cancels the ledger's task: the batch it was writing (here: waiting
    to retry) is still written."""
    engine = create_async_engine(sqlite_url)
    refusals = {"left": 1}

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO USAGE") and refusals["left"] > 0:
            refusals["left"] -= 1
            raise OperationalError(statement, {}, ConnectionRefusedError("database down"))

    event.listen(engine.sync_engine, "before_cursor_execute", refuse)
    retrying = asyncio.Event()

    async def backoff(_: float) -> None:
        retrying.set()
        await asyncio.sleep(0.05)

    ledger = UsageLedger(
        StorageSettings(url=sqlite_url, flush_seconds=0.01), engine=engine, sleep=backoff
    )
    for i in range(3):
        ledger.emit(a_record(f"r{i}"))
    await ledger.start()
    await retrying.wait()
    assert ledger._task is not None
    ledger._task.cancel()
    for _ in range(100):
        if ledger.written == 3:
            break
        await asyncio.sleep(0.01)
    assert ledger.written == 3
    await engine.dispose()
    rows, _ = await read_usage(sqlite_url)
    assert sorted(r["request_id"] for r in rows) == ["r0", "r1", "r2"]


async def test_values_longer_than_their_columns_are_cut_to_fit_never_a_stuck_batch(
    storage_url: str,
) -> None:
    """A 256-character model name passes the door's check; its row must still be written on
    PostgreSQL (whose VARCHAR(255) refuses longer values) rather than retried forever."""
    ledger = UsageLedger(StorageSettings(url=storage_url, flush_seconds=0.01))
    record = a_record("r" * 128)
    record.alias = "f/" + "x" * 254
    record.provider, record.model = "p" * 300, "m" * 300
    record.error_type = "e" * 100
    record.attempts.append(AttemptRecord("d" * 600, "error", "e" * 100))
    ledger.emit(record)
    await ledger.start()
    await asyncio.wait_for(ledger.aclose(), 10)
    (row,), (attempt,) = await read_usage(storage_url)
    assert row["alias"] == record.alias[:255] and row["model"] == "m" * 255
    assert row["provider"] == "p" * 255 and row["error_type"] == "e" * 64
    assert attempt["deployment"] == "d" * 512 and attempt["error_type"] == "e" * 64


def test_a_request_refused_before_the_gateway_is_a_usage_row_too(sqlite_url: str) -> None:
    """DESIGN: every request is one usage row, failed ones included: a body that is not JSON,
    a field that fails validation and an over-long model name are rows with their 400."""
    with serve(config(sqlite_url)) as served:
        url = f"{served.base_url}/chat/completions"
        assert httpx.post(url, content=b"{not json").status_code == 400
        bad = {"model": "smart", "messages": HELLO, "temperature": "hot"}
        assert httpx.post(url, json=bad).status_code == 400
        long = {"model": "m" * 300, "messages": HELLO, "stream": True}
        assert httpx.post(url, json=long).status_code == 400
        embeddings = f"{served.base_url}/embeddings"
        assert httpx.post(embeddings, json={"model": "smart"}).status_code == 400
        assert served.client().chat.completions.create(model="smart", messages=HELLO).choices
    rows, _ = asyncio.run(read_usage(sqlite_url))
    refused = [r for r in rows if r["status"] == "error"]
    assert len(rows) == 5 and len(refused) == 4
    assert {r["http_status"] for r in refused} == {400}
    assert {r["error_type"] for r in refused} == {"invalid_request"}
    assert sorted((r["kind"], r["alias"][:5]) for r in refused) == [
        ("chat", ""),
        ("chat", "smart"),
        ("embed", "smart"),
        ("stream", "mmmmm"),
    ]
