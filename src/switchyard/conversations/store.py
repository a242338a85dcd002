"""Where sessions are kept: the :class:`SessionStore` protocol and its in-memory store (the
library's default and a server's without ``storage``); :mod:`.sql_store` is the database's.

Every read and delete is by owner: a session of somebody else is as absent as one that never
existed (the API answers 404 for both, never 403, so ids cannot be probed)."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from datetime import timedelta
from typing import Protocol

from switchyard.conversations.records import Owner, Page, Session, Summary, Turn, now
from switchyard.errors import Conflict, NotFound


class SessionStore(Protocol):
    async def create(self, session: Session, max_sessions: int) -> None:
        """Keep ``session``; 409 when its owner has ``max_sessions`` already."""

    async def get(self, owner: Owner, session_id: str) -> Session | None:
        """The session when ``owner`` owns it, else None."""

    async def page(self, owner: Owner, limit: int, after: str | None) -> Page:
        """``owner``'s sessions, newest first, ``limit`` of them, older than ``after``."""

    async def delete(self, owner: Owner, session_id: str) -> bool:
        """Delete the session and its turns; False when ``owner`` has no such session."""

    async def turns(self, session: Session) -> list[Turn]:
        """The session's turns, oldest first."""

    async def claim(self, session: Session, seconds: float) -> bool:
        """Mark the session busy answering a message for at most ``seconds``; False when it is
        busy already (and that claim has not expired)."""

    async def release(self, session: Session) -> None:
        """The session is no longer busy (its reply failed or was abandoned)."""

    async def append(
        self, session: Session, turns: list[Turn], keep: int, summary: Summary | None
    ) -> None:
        """Add ``turns`` (their ids are set), keep the newest ``keep`` turns and record
        ``summary``, all or nothing, and release the session's claim; 404 when the session
        was deleted meanwhile."""

    async def aclose(self) -> None: ...


class MemoryStore:
    """Sessions in this process's memory, at most ``capacity`` of them: past it the least
    recently used session goes (with its turns). Lost on restart; not shared by workers."""

    def __init__(self, capacity: int, retention_days: float | None = None) -> None:
        self.capacity = capacity
        self.keep = None if retention_days is None else timedelta(days=retention_days)
        self._sessions: OrderedDict[str, tuple[Session, list[Turn]]] = OrderedDict()
        self._owned: dict[Owner, set[str]] = {}
        self._busy: dict[str, float] = {}  # session id -> until (time.monotonic())
        self._ids = itertools.count(1)

    async def create(self, session: Session, max_sessions: int) -> None:
        owner = Owner(session.tenant, session.user, session.key_id)
        if self.keep is not None:  # the idle ones go first (and no longer count)
            for expired in [s for s, _ in self._sessions.values() if self._expired(s)]:
                self._sessions.pop(expired.id)
                self._forget(expired)
        owned = self._owned.setdefault(owner, set())
        if len(owned) >= max_sessions:
            raise Conflict(
                f"this caller has {max_sessions} sessions already (conversations.max_sessions):"
                " delete some first"
            )
        while len(self._sessions) >= self.capacity:
            _, (evicted, _) = self._sessions.popitem(last=False)
            self._forget(evicted)
        self._sessions[session.id] = (session, [])
        owned.add(session.id)

    async def get(self, owner: Owner, session_id: str) -> Session | None:
        kept = self._sessions.get(session_id)
        if kept is None or not owner.owns(kept[0]) or self._expired(kept[0]):
            return None
        self._sessions.move_to_end(session_id)
        return kept[0]

    async def page(self, owner: Owner, limit: int, after: str | None) -> Page:
        ids = sorted(self._owned.get(owner, ()), reverse=True)
        ids = [i for i in ids if not self._expired(self._sessions[i][0])]
        if after is not None:
            ids = [i for i in ids if i < after]
        return Page([self._sessions[i][0] for i in ids[:limit]], len(ids) > limit)

    async def delete(self, owner: Owner, session_id: str) -> bool:
        if await self.get(owner, session_id) is None:
            return False
        evicted, _ = self._sessions.pop(session_id)
        self._forget(evicted)
        return True

    async def turns(self, session: Session) -> list[Turn]:
        kept = self._sessions.get(session.id)
        return [] if kept is None else list(kept[1])

    async def claim(self, session: Session, seconds: float) -> bool:
        now = time.monotonic()
        if self._busy.get(session.id, now) > now:
            return False
        self._busy[session.id] = now + seconds
        return True

    async def release(self, session: Session) -> None:
        self._busy.pop(session.id, None)

    async def append(
        self, session: Session, turns: list[Turn], keep: int, summary: Summary | None
    ) -> None:
        self._busy.pop(session.id, None)
        kept = self._sessions.get(session.id)
        if kept is None:
            raise NotFound(f"no session {session.id!r}", param="session_id")
        stored, history = kept
        for turn in turns:
            turn.id = next(self._ids)
        history.extend(turns)
        del history[:-keep]
        if summary is not None:
            stored.summary, stored.summary_through = summary.text, summary.through
        stored.updated_at = now()
        self._sessions.move_to_end(session.id)

    async def aclose(self) -> None:
        """Nothing to release: the sessions stay for as long as the process (or the gateway
        object) lives."""

    def _expired(self, session: Session) -> bool:
        return self.keep is not None and session.updated_at < now() - self.keep

    def _forget(self, session: Session) -> None:
        self._busy.pop(session.id, None)
        owner = Owner(session.tenant, session.user, session.key_id)
        owned = self._owned.get(owner)
        if owned is not None:
            owned.discard(session.id)
            if not owned:
                del self._owned[owner]


__all__ = ["MemoryStore", "SessionStore"]
