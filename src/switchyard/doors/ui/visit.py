"""One authenticated dashboard request: its session, its caller and the form it posted."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchyard.doors.ui.sessions import Session
from switchyard.types import Principal


@dataclass(slots=True)
class Visit:
    session: Session
    principal: Principal  # the session's, with this request's id
    form: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> bool:
        return self.principal.admin

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def who(self) -> str:
        p = self.principal
        if p.admin:
            return "admin"
        return f"tenant {p.tenant or '?'} · key {p.key_id or '?'}"


__all__ = ["Visit"]
