"""`switchyard db upgrade`, the start-up schema check, and SIGTERM under load losing no row."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from switchyard import Gateway
from switchyard.cli import app
from switchyard.storage.migrate import SchemaBehind
from tests.databases import read_usage
from tests.e2e.served_process import serve_process

BEHIND = "run `switchyard db upgrade` first"


def storage_yaml(url: str) -> str:
    return f'storage: {{url: "{url}"}}\n'


def test_db_upgrade_creates_the_tables_in_a_fresh_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    config = tmp_path / "switchyard.yaml"
    config.write_text(storage_yaml(f"sqlite+aiosqlite:///{path}"))
    result = CliRunner().invoke(app, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("select name from sqlite_master")}
    assert {"usage", "usage_attempts", "alembic_version"} <= tables


def test_db_upgrade_without_a_storage_section_says_so(tmp_path: Path) -> None:
    config = tmp_path / "switchyard.yaml"
    config.write_text("server: {port: 8080}\n")
    result = CliRunner().invoke(app, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 2 and "no storage section" in result.output


async def test_a_fresh_sqlite_file_is_migrated_on_start(sqlite_url: str) -> None:
    async with Gateway.from_config({"storage": {"url": sqlite_url}}):
        pass
    assert await read_usage(sqlite_url) == ([], [])


async def test_a_postgres_schema_behind_refuses_to_start_until_upgraded(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    gateway = Gateway.from_config({"storage": {"url": empty_postgres_url}})
    with pytest.raises(SchemaBehind, match="switchyard db upgrade"):
        await gateway.start()
    await gateway.aclose()
    # `switchyard serve` exits with the message
    config = tmp_path / "switchyard.yaml"
    config.write_text(storage_yaml(empty_postgres_url) + "server: {port: 1}\n")
    served = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "switchyard", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.returncode != 0 and BEHIND in served.stderr
    # after `switchyard db upgrade` it starts
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["db", "upgrade", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    async with Gateway.from_config({"storage": {"url": empty_postgres_url}}):
        pass


SERVED = """
server: {host: 127.0.0.1, port: PORT, log_level: warning}
providers: {f: {type: fake, reply: "hi", latency: 0.02}}
models: [{name: smart, deployments: [{provider: f, model: m}]}]
storage: {url: "URL", flush_seconds: 5}
"""


def test_sigterm_under_load_writes_one_row_per_answered_request(
    storage_url: str, tmp_path: Path
) -> None:
    """flush_seconds is long: the rows still queued at SIGTERM are written by the shutdown."""
    answered: list[int] = []
    with serve_process(SERVED.replace("URL", storage_url), tmp_path) as server:
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                for _ in range(40):  # bounded
                    if stop.is_set():
                        return
                    try:
                        reply = client.post(
                            "/v1/chat/completions",
                            json={"model": "smart", "messages": [{"role": "user", "content": "x"}]},
                        )
                    except httpx.TransportError:
                        return
                    answered.append(reply.status_code)

        workers = [threading.Thread(target=load) for _ in range(6)]
        for worker in workers:
            worker.start()
        while len(answered) < 30:
            time.sleep(0.01)
        status = server.stop(timeout=30)
        stop.set()
        for worker in workers:
            worker.join()
    assert status == 0
    rows, _ = asyncio.run(read_usage(storage_url))
    successes = answered.count(200)
    assert 30 <= successes < 240  # stopped mid-load
    assert len([r for r in rows if r["status"] == "success"]) == successes
    assert len(rows) == successes  # refused-while-draining requests never reached the gateway
