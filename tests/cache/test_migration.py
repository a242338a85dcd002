"""Migration 0003 adds the usage rows' ``cost_saved_usd`` to a database at 0002, rows kept."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from switchyard.storage.migrate import _alembic, current


async def test_0003_adds_cost_saved_to_existing_usage_rows(sqlite_url: str) -> None:
    engine = create_async_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(_alembic(c), "0002"))
            await connection.execute(
                text(
                    "INSERT INTO usage (id, created_at, request_id, tags, kind, alias,"
                    " input_tokens, output_tokens, cached_tokens, reasoning_tokens, priced,"
                    " usage_estimated, latency_ms, attempts, hedged, status, http_status)"
                    " VALUES ('old', '2026-01-01 00:00:00', 'r', '[]', 'chat', 'smart',"
                    " 1, 2, 0, 0, 1, 0, 3.0, 1, 0, 'success', 200)"
                )
            )
        assert await current(engine) == "0002"
        async with engine.begin() as connection:  # to 0003 itself: later revisions follow it
            await connection.run_sync(lambda c: command.upgrade(_alembic(c), "0003"))
        assert await current(engine) == "0003"
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, cost_saved_usd FROM usage"))).all()
        assert [tuple(r) for r in rows] == [("old", None)]
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.downgrade(_alembic(c), "0002"))
            columns = (await connection.execute(text("PRAGMA table_info(usage)"))).all()
        assert "cost_saved_usd" not in {c[1] for c in columns}
    finally:
        await engine.dispose()
