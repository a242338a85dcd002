"""``switchyard usage``: the summary of a SQLite usage file, as a table and as JSON, run as a
user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.usage.test_summary import write_rows


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchyard", "usage", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},  # Rich: room for every column
    )


@pytest.fixture
async def config_file(tmp_path: Path, sqlite_url: str) -> Path:
    await write_rows(sqlite_url)
    path = tmp_path / "switchyard.yaml"
    path.write_text(
        "providers: {f: {type: fake}}\n"
        "models: [{name: smart, deployments: [{provider: f, model: m}]}]\n"
        f'storage: {{url: "{sqlite_url}"}}\n'
    )
    return path


def test_a_table_with_the_totals_last(config_file: Path) -> None:
    result = run("--group-by", "tenant", "--config", str(config_file))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    (head,) = [line for line in lines if "┃" in line]
    header = [c.strip() for c in head.strip("┃ ").split("┃")]
    rows = [[c.strip() for c in line.strip("│ ").split("│")] for line in lines if "│" in line]
    assert header[:2] == ["tenant", "requests"] and "cost $" in header
    assert [row[0] for row in rows] == ["-", "acme", "beta", "total"]
    cost, p95 = header.index("cost $"), header.index("p95 ms")
    assert [row[cost] for row in rows] == ["0.0001725", "0.004775", "0.004175", "0.0091225"]
    assert [row[p95] for row in rows] == ["60.0", "38.5", "50.0", "57.5"]
    assert rows[-1][1] == "6"


def test_json_is_the_http_answer(config_file: Path) -> None:
    result = run(
        "--group-by", "day", "--since", "2026-12-01", "--json", "--config", str(config_file)
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["object"] == "usage.summary" and body["since"] == "2026-12-01T00:00:00Z"
    assert [g["day"] for g in body["groups"]] == ["2026-12-01"]
    assert body["totals"]["requests"] == 3 and body["totals"]["cost_usd"] == "0.0043475"


def test_one_tenant(config_file: Path) -> None:
    result = run("--tenant", "beta", "--json", "-c", str(config_file))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["cost_usd"] == "0.004175"


def test_a_bad_option_names_itself(config_file: Path) -> None:
    result = run("--group-by", "tenant,colour", "--config", str(config_file))
    assert result.returncode == 2
    assert "group_by" in result.stderr and "colour" in result.stderr


def test_without_storage_there_is_no_usage(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(
        "providers: {f: {type: fake}}\n"
        "models: [{name: smart, deployments: [{provider: f, model: m}]}]\n"
    )
    result = run("--config", str(path))
    assert result.returncode == 2 and "storage" in result.stderr


def test_a_missing_sqlite_file_is_said_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "never.db"
    path = tmp_path / "switchyard.yaml"
    path.write_text(
        "providers: {f: {type: fake}}\n"
        "models: [{name: smart, deployments: [{provider: f, model: m}]}]\n"
        f'storage: {{url: "sqlite+aiosqlite:///{missing}"}}\n'
    )
    result = run("--config", str(path))
    assert result.returncode == 1 and "no usage database" in result.stderr
    assert not missing.exists()
