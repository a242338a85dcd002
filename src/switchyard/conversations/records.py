"""What a conversation is made of: its owner, the session, and its turns as stored."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from switchyard.types import Cost, Principal, Usage

TurnRole = Literal["user", "assistant"]


class Owner(NamedTuple):
    """Who a session belongs to: the tenant, and within it the user when the key names one
    (any key of that user sees it), else the key itself. The admin (the master key, the
    library's default caller) is the owner with no tenant, user or key."""

    tenant: str | None
    user: str | None
    key_id: str | None

    @classmethod
    def of(cls, principal: Principal) -> Owner:
        if principal.user is not None:
            return cls(principal.tenant, principal.user, None)
        return cls(principal.tenant, None, principal.key_id)

    def owns(self, session: Session) -> bool:
        return (
            session.tenant == self.tenant
            and session.user == self.user
            and (self.user is not None or session.key_id == self.key_id)
        )


def new_session_id() -> str:
    """``sess_`` + 12 hex digits of milliseconds + 16 random: ids sort by creation, so a page
    of the newest sessions is an index range (``after`` a cursor id), no offset."""
    return f"sess_{int(time.time() * 1000):012x}{os.urandom(8).hex()}"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Turn:
    """One message of a session. ``id`` orders the turns (assigned by the store); an
    assistant turn keeps the request's usage, cost and who answered."""

    role: TurnRole
    content: str
    created_at: datetime = field(default_factory=now)
    id: int = 0
    request_id: str | None = None
    provider: str | None = None
    model: str | None = None
    usage: Usage | None = None
    cost: Cost | None = None


@dataclass(slots=True)
class Session:
    id: str
    model: str
    system: str | None
    metadata: dict[str, Any]
    tenant: str | None = None
    user: str | None = None
    key_id: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    # what stands for the turns up to summary_through (a Turn.id), once they were summarised
    summary: str | None = None
    summary_through: int = 0

    @classmethod
    def new(cls, owner: Owner, model: str, system: str | None, metadata: dict[str, Any]) -> Session:
        return cls(
            id=new_session_id(),
            model=model,
            system=system,
            metadata=metadata,
            tenant=owner.tenant,
            user=owner.user,
            key_id=owner.key_id,
        )


@dataclass(frozen=True, slots=True)
class Summary:
    """A new summary of a session's oldest turns, written with the turns that made it due."""

    text: str
    through: int  # the id of the last turn it stands for


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an owner's sessions, newest first; ``has_more``: another page follows."""

    sessions: list[Session]
    has_more: bool


__all__ = ["Owner", "Page", "Session", "Summary", "Turn", "TurnRole", "new_session_id", "now"]
