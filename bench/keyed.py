"""The keyed targets: the bench gateway with a virtual key and the usage ledger on, on SQLite
and on PostgreSQL, and the count that shows no usage row was lost.

Each target gets a fresh database (a SQLite file under bench/results, or a throwaway
PostgreSQL database on 127.0.0.1:5432, dropped afterwards), a tenant ``bench`` from the config,
and one key created through the library's ``Accounts`` (what ``switchyard keys create`` does).
wrk and the start-up probe send that key instead of the master key.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from harness import BENCH_DIR, RESULTS_DIR

KEY_ENV = "SWITCHYARD_BENCH_KEY"  # read by wrk/chat.lua and harness.post_ok
PG_HOST = os.environ.get("BENCH_POSTGRES_HOST", "127.0.0.1:5432")
DATABASES = {"switchyard+keys-sqlite": "sqlite", "switchyard+keys-pg": "postgres"}


@dataclass
class Keyed:
    config: Path
    url: str
    key: str
    admin_url: str | None = None  # PostgreSQL: where to drop the database afterwards

    def rows(self) -> dict[str, int]:
        return asyncio.run(_count(self.url))

    def cleanup(self) -> None:
        os.environ.pop(KEY_ENV, None)
        if self.admin_url is not None:
            asyncio.run(_drop(self.admin_url, self.url.rsplit("/", 1)[1]))


def prepare(target: str, stamp: str) -> Keyed:
    """A database, a config pointing at it, and a key; ``KEY_ENV`` set for wrk and the probe."""
    kind = DATABASES[target]
    admin_url = None
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{RESULTS_DIR / f'{stamp}-usage.db'}"
    else:
        name = f"switchyard_bench_{uuid.uuid4().hex[:10]}"
        admin_url = f"postgresql://postgres@{PG_HOST}/postgres"
        asyncio.run(_create(admin_url, name))
        url = f"postgresql+asyncpg://postgres@{PG_HOST}/{name}"
    config = yaml.safe_load((BENCH_DIR / "switchyard.yaml").read_text())
    config["storage"] = {"url": url}
    config["tenants"] = [{"name": "bench", "models": ["bench", "bench-stream"]}]
    path = RESULTS_DIR / f"{stamp}-{target.replace('+', '-')}.yaml"
    path.write_text(yaml.safe_dump(config))
    key = asyncio.run(_new_key(path))
    os.environ[KEY_ENV] = key
    return Keyed(path, url, key, admin_url)


async def _new_key(path: Path) -> str:
    from switchyard.config.load import load_config
    from switchyard.storage.engine import build_engine
    from switchyard.storage.migrate import upgrade
    from switchyard.tenancy.accounts import Accounts
    from switchyard.tenancy.settings import KeySpec
    from switchyard.tenancy.store import KeyStore

    config = load_config(path)
    assert config.storage is not None
    engine = build_engine(config.storage)
    try:
        await upgrade(engine)  # `switchyard db upgrade`
        accounts = Accounts(
            config.tenants,
            KeyStore(engine),
            aliases={m.name for m in config.models},
            providers=set(config.providers),
        )
        _, key = await accounts.create_key(KeySpec(tenant="bench", name="bench"))
        return key
    finally:
        await engine.dispose()


async def _count(url: str) -> dict[str, int]:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from switchyard.storage.tables import usage

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                select(usage.c.status, usage.c.tenant, func.count()).group_by(
                    usage.c.status, usage.c.tenant
                )
            )
            counts: dict[str, int] = {}
            for status, tenant, n in result:
                counts[status] = counts.get(status, 0) + n
                if tenant != "bench":
                    counts["not_attributed"] = counts.get("not_attributed", 0) + n
            return counts
    finally:
        await engine.dispose()


async def _create(admin_url: str, name: str) -> None:
    await _as_admin(admin_url, f'CREATE DATABASE "{name}"')


async def _drop(admin_url: str, name: str) -> None:
    await _as_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _as_admin(admin_url: str, statement: str) -> None:
    import asyncpg

    connection: Any = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
