"""The dashboard's sessions: who logged in, kept on the server, named by an opaque cookie.

The cookie holds a random token (32 bytes, URL-safe) and nothing else: the session (the
:class:`~switchyard.types.Principal` the key named, its CSRF token, its expiry) stays in this
process's memory, never the key itself. The store is bounded: at most ``max_sessions``, the
oldest evicted first, each living ``ttl`` seconds from its last use (and never longer than
``max_age`` from its login). Logging out forgets the session at once. Per process: behind a
load balancer with several replicas, pin the dashboard to one (sticky sessions) or log in on
each.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from switchyard.types import Principal

COOKIE = "switchyard_session"
LOGIN_COOKIE = "switchyard_login"  # the login form's CSRF token (double submit), pre-session
MAX_SESSIONS = 1000
IDLE_SECONDS = 3600.0
MAX_AGE_SECONDS = 12 * 3600.0
FLASH_LIMIT = 4096  # characters of the one-time message a page shows after a POST


@dataclass(slots=True)
class Session:
    principal: Principal
    csrf: str
    created: float
    last_used: float
    checked: float  # when the key behind it was last found live (a virtual key's session)
    flash: list[str] = field(default_factory=list)  # shown once on the next page

    def checks(self, token: str | None) -> bool:
        """Whether ``token`` (a form's or a header's) is this session's CSRF token."""
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())

    def tell(self, message: str) -> None:
        if len(self.flash) < 8:
            self.flash.append(message[:FLASH_LIMIT])

    def told(self) -> list[str]:
        messages, self.flash = self.flash, []
        return messages


class SessionStore:
    def __init__(
        self,
        *,
        max_sessions: int = MAX_SESSIONS,
        idle: float = IDLE_SECONDS,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._max = max_sessions
        self._idle = idle
        self._max_age = max_age
        self._clock = clock

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, principal: Principal) -> tuple[str, Session]:
        """A new session for ``principal``: its cookie token and the session."""
        now = self._clock()
        while len(self._sessions) >= self._max:
            self._sessions.popitem(last=False)  # the least recently used
        token = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32), now, now, now)
        self._sessions[token] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        """The live session the cookie names (its idle time restarts), or None."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        now = self._clock()
        if now - session.last_used > self._idle or now - session.created > self._max_age:
            del self._sessions[token]
            return None
        session.last_used = now
        self._sessions.move_to_end(token)
        return session

    def close(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)


__all__ = ["COOKIE", "LOGIN_COOKIE", "Session", "SessionStore"]
