"""``switchyard keys`` and ``switchyard tenants`` on a real database: the key printed once, then
listed and revoked, never shown again; mistakes are one line and an exit status, no traceback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from tests.e2e.served import serve
from typer.testing import CliRunner

from switchyard import Gateway
from switchyard.cli import app
from switchyard.cli_accounts import parse_duration
from switchyard.storage.tables import api_keys
from switchyard.tenancy.secrets import key_hash, key_id_of

CONFIG = """
server: {master_key: sk-test-master}
providers: {p: {type: fake}}
models:
  - {name: smart, deployments: [{provider: p, model: m1}]}
  - {name: fast, deployments: [{provider: p, model: m2}]}
storage: {url: "URL"}
tenants:
  - {name: acme, models: [smart], limits: {rpm: 60}, budget: {usd: 50, period: month}}
"""


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "switchyard.yaml"
    path.write_text(CONFIG.replace("URL", url))
    return path


def switchyard(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it (wide, so a table is never cut)."""
    return subprocess.run(
        [sys.executable, "-m", "switchyard", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


async def _stored_keys(url: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return repr((await connection.execute(select(api_keys))).all())
    finally:
        await engine.dispose()


def test_a_key_is_created_printed_once_listed_and_revoked(storage_url: str, tmp_path: Path) -> None:
    config = str(write_config(tmp_path, storage_url))
    made = switchyard("tenants", "create", "globex", "-m", "smart", "-m", "fast", "-c", config)
    assert made.returncode == 0, made.stderr
    created = switchyard(
        "keys", "create", "--tenant", "globex", "--user", "ada", "--name", "laptop",
        "--model", "fast", "--expires-in", "30d", "-c", config,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()  # alone on stdout, for KEY=$(switchyard keys create ...)
    key_id = key_id_of(secret.encode())
    assert key_id is not None, created.stdout
    assert "only time" in created.stderr and key_id in created.stderr
    assert secret not in created.stderr

    listed = switchyard("keys", "list", "-c", config)
    assert listed.returncode == 0, listed.stderr
    assert key_id in listed.stdout and "globex" in listed.stdout and "active" in listed.stdout
    assert secret not in listed.stdout + listed.stderr
    rows = json.loads(
        switchyard("keys", "list", "--tenant", "globex", "--json", "-c", config).stdout
    )
    assert [(r["id"], r["user"], r["name"], r["models"]) for r in rows] == [
        (key_id, "ada", "laptop", ["fast"])
    ]
    expires = datetime.fromisoformat(rows[0]["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)
    assert "key" not in rows[0] and "hash" not in rows[0]
    assert json.loads(switchyard("keys", "list", "-t", "acme", "--json", "-c", config).stdout) == []

    # usable: the database holds its hash (what authentication compares), never the secret
    stored = asyncio.run(_stored_keys(storage_url))
    assert key_hash(secret.encode()) in stored and secret not in stored

    tenants = switchyard("tenants", "list", "-c", config)
    assert tenants.returncode == 0 and "acme" in tenants.stdout and "globex" in tenants.stdout
    assert "$50/month" in tenants.stdout and "rpm=60" in tenants.stdout
    refused = switchyard("tenants", "delete", "globex", "-c", config)
    assert refused.returncode == 1 and "revoke" in refused.stderr
    assert "Traceback" not in refused.stderr

    revoked = switchyard("keys", "revoke", key_id, "-c", config)
    assert revoked.returncode == 0, revoked.stderr
    assert key_id in revoked.stdout and secret not in revoked.stdout
    after = json.loads(switchyard("keys", "list", "--json", "-c", config).stdout)
    assert after[0]["revoked_at"] is not None
    assert "revoked" in switchyard("keys", "list", "-c", config).stdout
    assert switchyard("tenants", "delete", "globex", "-c", config).returncode == 0


def test_the_cli_and_the_admin_api_share_the_database(sqlite_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, sqlite_url)
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "-t", "acme", "--json", "-c", str(config)])
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["key"].startswith("sk-sy-") and key["tenant"] == "acme"
    with serve(Gateway.from_config(config)) as served:
        auth = {"Authorization": "Bearer sk-test-master"}
        listed = httpx.get(f"{served.url}/api/v1/admin/keys", headers=auth)
        assert [k["id"] for k in listed.json()["data"]] == [key["id"]]
        assert key["key"] not in listed.text
        assert httpx.delete(f"{served.url}/api/v1/admin/keys/{key['id']}", headers=auth).is_success
    shown = runner.invoke(app, ["keys", "list", "--json", "-c", str(config)])
    assert json.loads(shown.stdout)[0]["revoked_at"] is not None


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["keys", "create", "-t", "initech"], 1, "no tenant named 'initech'"),
        (["keys", "create", "-t", "acme", "-m", "fast"], 1, "may not use 'fast'"),
        (["keys", "create", "-t", "acme", "-m", "nope"], 1, "unknown model 'nope'"),
        (["keys", "create", "-t", "acme", "--expires-in", "3x"], 2, "not a duration"),
        (["keys", "create", "-t", "acme", "--expires-in", "0d"], 2, "not a positive duration"),
        (["keys", "create", "-t", "acme", "--expires-at", "soon"], 2, "not an ISO 8601 time"),
        (["keys", "create", "-t", "acme", "--expires-at", "2020-01-01"], 1, "in the past"),
        (
            ["keys", "create", "-t", "acme", "--expires-in", "1d", "--expires-at", "2099-01-01"],
            2,
            "not both",
        ),
        (["keys", "revoke", "ffffffffffff"], 1, "no key with id 'ffffffffffff'"),
        (["tenants", "create", "acme"], 1, "defined in the config"),
        (["tenants", "create", "has space"], 2, "name"),
        (["tenants", "create", "globex", "--default-model", "nope"], 1, "default_model"),
        (["tenants", "delete", "initech"], 1, "no tenant named 'initech'"),
    ],
)
def test_mistakes_are_one_clear_line(
    sqlite_url: str, tmp_path: Path, args: list[str], status: int, says: str
) -> None:
    config = write_config(tmp_path, sqlite_url)
    result = CliRunner().invoke(app, [*args, "-c", str(config)])
    assert result.exit_code == status, result.output
    assert says in " ".join(result.stderr.split()), result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "sk-sy-" not in result.stdout  # no key was made
    listed = CliRunner().invoke(app, ["keys", "list", "--json", "-c", str(config)])
    assert json.loads(listed.stdout) == []


def test_without_a_storage_section_the_commands_say_to_add_one(tmp_path: Path) -> None:
    config = tmp_path / "plain.yaml"
    config.write_text("providers: {p: {type: fake}}\n")
    for args in (["keys", "list"], ["keys", "create", "-t", "acme"], ["tenants", "list"]):
        result = CliRunner().invoke(app, [*args, "-c", str(config)])
        assert result.exit_code == 2, result.output
        assert "no storage section" in result.stderr and "storage: {url:" in result.stderr


def test_a_postgresql_schema_that_is_behind_names_the_upgrade_command(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, empty_postgres_url)
    result = CliRunner().invoke(app, ["keys", "list", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "switchyard db upgrade" in " ".join(result.stderr.split())


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql+asyncpg://u:hunter2@127.0.0.1:1/db")
    result = CliRunner().invoke(app, ["keys", "list", "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert "did not answer" in result.stderr and "hunter2" not in result.stderr
    assert "Traceback" not in result.output


def test_durations() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("1d12h") == timedelta(hours=36)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    for bad in ("", "30", "d", "1.5h", "-1d", "1d 2h", "3y"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_a_key_revoked_with_the_cli_is_refused_at_once_by_a_running_gateway(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The CLI announces its revocation over ``storage.redis_url``: a gateway that cached the
    key for 30 s refuses it within a second, without waiting for its key cache."""
    config = tmp_path / "switchyard.yaml"
    config.write_text(
        CONFIG.replace("URL", sqlite_url)
        .replace(", budget: {usd: 50, period: month}", "")  # the fake deployment has no price
        .replace(
            "storage: {url:",
            "storage: {redis_url: 'redis://127.0.0.1:6379/0', key_cache_seconds: 30, url:",
        )
    )
    made = switchyard("keys", "create", "-t", "acme", "--json", "-c", str(config))
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    with serve(Gateway.from_config(config)) as served:
        client = served.client(api_key=key["key"])
        hello = [{"role": "user", "content": "hi"}]
        assert client.chat.completions.create(model="smart", messages=hello).choices
        revoked = switchyard("keys", "revoke", key["id"], "-c", str(config))
        assert revoked.returncode == 0, revoked.stderr
        refused_at = None
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            status = httpx.get(
                f"{served.url}/v1/models", headers={"Authorization": f"Bearer {key['key']}"}
            ).status_code
            if status == 401:
                refused_at = time.monotonic()
                break
            time.sleep(0.02)
        assert refused_at is not None, "the running gateway still accepts the revoked key"
