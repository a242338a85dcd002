"""Sessions in the ``storage`` database (tables ``sessions`` and ``session_messages``),
shared by every replica. Imported only when ``storage`` is configured.

A database that does not answer is :class:`~switchyard.errors.StorageUnavailable` (503),
never a stray SQLAlchemy error. Appending a turn pair is one transaction: the turns, the
trimming to ``max_messages`` and a new summary are written together or not at all.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchyard.conversations.records import Owner, Page, Session, Summary, Turn, now
from switchyard.errors import Conflict, NotFound
from switchyard.storage.engine import aware, transaction
from switchyard.storage.retention import Retention
from switchyard.storage.tables import session_messages, sessions
from switchyard.types import Cost, Usage


class SqlStore:
    def __init__(self, engine: AsyncEngine, retention_days: float | None = None) -> None:
        self.engine = engine
        self._retention = None
        if retention_days is not None:
            self._retention = Retention("idle sessions", retention_days, self._purge)

    def _live(self) -> ColumnElement[bool]:
        """The sessions not past their retention (all without one)."""
        if self._retention is None:
            return true()
        return sessions.c.updated_at >= self._retention.cutoff()

    def _written(self) -> None:
        if self._retention is not None:
            self._retention.written()

    async def _purge(self, cutoff: datetime) -> int:
        idle = select(sessions.c.id).where(sessions.c.updated_at < cutoff)
        async with self._begin() as connection:
            await connection.execute(
                delete(session_messages).where(session_messages.c.session_id.in_(idle))
            )
            result = await connection.execute(
                delete(sessions).where(sessions.c.updated_at < cutoff)
            )
        return int(result.rowcount or 0)

    def _begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        return transaction(self.engine, "the session database")

    async def create(self, session: Session, max_sessions: int) -> None:
        owner = Owner(session.tenant, session.user, session.key_id)
        async with self._begin() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(sessions).where(_owned_by(owner), self._live())
            )
            if (count or 0) >= max_sessions:
                raise Conflict(
                    f"this caller has {max_sessions} sessions already "
                    "(conversations.max_sessions): delete some first"
                )
            await connection.execute(
                insert(sessions).values(
                    id=session.id,
                    tenant=session.tenant,
                    key_id=session.key_id,
                    user=session.user,
                    model=session.model,
                    system=session.system,
                    metadata=session.metadata,
                    created_at=session.created_at,
                    updated_at=session.updated_at,
                )
            )
        self._written()

    async def get(self, owner: Owner, session_id: str) -> Session | None:
        query = select(sessions).where(sessions.c.id == session_id, _owned_by(owner), self._live())
        async with self._begin() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _session(row)

    async def page(self, owner: Owner, limit: int, after: str | None) -> Page:
        query = select(sessions).where(_owned_by(owner), self._live())
        if after is not None:
            query = query.where(sessions.c.id < after)
        query = query.order_by(sessions.c.id.desc()).limit(limit + 1)
        async with self._begin() as connection:
            rows = (await connection.execute(query)).all()
        return Page([_session(row) for row in rows[:limit]], len(rows) > limit)

    async def delete(self, owner: Owner, session_id: str) -> bool:
        async with self._begin() as connection:
            result = await connection.execute(
                delete(sessions).where(sessions.c.id == session_id, _owned_by(owner))
            )
            if result.rowcount:  # SQLite enforces no foreign keys unless told: delete them here
                await connection.execute(
                    delete(session_messages).where(session_messages.c.session_id == session_id)
                )
        return bool(result.rowcount)

    async def turns(self, session: Session) -> list[Turn]:
        query = (
            select(session_messages)
            .where(session_messages.c.session_id == session.id)
            .order_by(session_messages.c.id)
        )
        async with self._begin() as connection:
            return [_turn(row) for row in await connection.execute(query)]

    async def claim(self, session: Session, seconds: float) -> bool:
        """One conditional UPDATE: atomic across replicas (the database's row lock)."""
        moment = now()
        free = or_(sessions.c.busy_until.is_(None), sessions.c.busy_until <= moment)
        async with self._begin() as connection:
            result = await connection.execute(
                update(sessions)
                .where(sessions.c.id == session.id, free)
                .values(busy_until=moment + timedelta(seconds=seconds))
            )
        return bool(result.rowcount)

    async def release(self, session: Session) -> None:
        async with self._begin() as connection:
            await connection.execute(
                update(sessions).where(sessions.c.id == session.id).values(busy_until=None)
            )

    async def append(
        self, session: Session, turns: list[Turn], keep: int, summary: Summary | None
    ) -> None:
        changes: dict[str, Any] = {"updated_at": now(), "busy_until": None}
        if summary is not None:
            changes.update(summary=summary.text, summary_through=summary.through)
        async with self._begin() as connection:
            found = await connection.execute(
                update(sessions).where(sessions.c.id == session.id).values(**changes)
            )
            if not found.rowcount:
                raise NotFound(f"no session {session.id!r}", param="session_id")
            for turn in turns:  # one at a time: each needs its id back, on both databases
                result = await connection.execute(
                    insert(session_messages).values(**_turn_values(session.id, turn))
                )
                key = result.inserted_primary_key
                assert key is not None
                turn.id = int(key[0])
            oldest_kept = (
                select(session_messages.c.id)
                .where(session_messages.c.session_id == session.id)
                .order_by(session_messages.c.id.desc())
                .offset(keep - 1)
                .limit(1)
                .scalar_subquery()
            )
            await connection.execute(
                delete(session_messages).where(
                    session_messages.c.session_id == session.id,
                    session_messages.c.id < oldest_kept,
                )
            )
        self._written()

    async def aclose(self) -> None:
        """The engine is the usage ledger's, which disposes of it; a purge still running is
        waited for."""
        if self._retention is not None:
            await self._retention.aclose()


def _owned_by(owner: Owner) -> ColumnElement[bool]:
    """The rows ``owner`` owns (see :class:`~switchyard.conversations.records.Owner`)."""
    column = sessions.c.tenant
    tenant = column.is_(None) if owner.tenant is None else column == owner.tenant
    if owner.user is not None:
        return and_(tenant, sessions.c.user == owner.user)
    column = sessions.c.key_id
    key = column.is_(None) if owner.key_id is None else column == owner.key_id
    return and_(tenant, sessions.c.user.is_(None), key)


def _session(row: Any) -> Session:
    return Session(
        id=row.id,
        model=row.model,
        system=row.system,
        metadata=row.metadata or {},
        tenant=row.tenant,
        user=row.user,
        key_id=row.key_id,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        summary=row.summary,
        summary_through=row.summary_through or 0,
    )


def _turn_values(session_id: str, turn: Turn) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "role": turn.role,
        "content": turn.content,
        "created_at": turn.created_at,
        "request_id": turn.request_id,
        "provider": turn.provider,
        "model": turn.model,
        "usage": None if turn.usage is None else turn.usage.model_dump(),
        "cost": None if turn.cost is None else turn.cost.model_dump(),
    }


def _turn(row: Any) -> Turn:
    return Turn(
        id=row.id,
        role=row.role,
        content=row.content,
        created_at=aware(row.created_at),
        request_id=row.request_id,
        provider=row.provider,
        model=row.model,
        usage=None if row.usage is None else Usage.model_validate(row.usage),
        cost=None if row.cost is None else Cost.model_validate(row.cost),
    )


__all__ = ["SqlStore"]
