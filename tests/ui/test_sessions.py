"""The dashboard's session store: bounded, expiring, opaque tokens; and the recent-errors
ring the errors page reads."""

from __future__ import annotations

from switchyard.doors.ui.sessions import SessionStore
from switchyard.records.recent_errors import RecentErrors
from switchyard.records.record import RequestRecord
from switchyard.types import Principal


def test_the_store_keeps_at_most_max_sessions_dropping_the_least_recently_used() -> None:
    store = SessionStore(max_sessions=3)
    tokens = [store.open(Principal(request_id="", admin=True))[0] for _ in range(3)]
    assert store.get(tokens[0]) is not None  # used: now the most recent
    newest, _ = store.open(Principal(request_id="", tenant="acme"))
    assert len(store) == 3
    assert store.get(tokens[1]) is None  # the least recently used went
    assert store.get(tokens[0]) is not None and store.get(newest) is not None
    assert len(set(tokens)) == 3 and all(len(t) >= 40 for t in tokens)


def test_sessions_expire_when_idle_and_at_their_maximum_age() -> None:
    now = [0.0]
    store = SessionStore(idle=10, max_age=25, clock=lambda: now[0])
    token, session = store.open(Principal(request_id="", admin=True))
    for moment in (9.0, 18.0, 24.0):  # each use restarts the idle time...
        now[0] = moment
        assert store.get(token) is session
    now[0] = 26.0  # ...but not the maximum age
    assert store.get(token) is None and len(store) == 0
    token, _ = store.open(Principal(request_id="", admin=True))
    now[0] = 37.0
    assert store.get(token) is None
    assert store.get("") is None and store.get("forged") is None


def test_csrf_tokens_are_per_session_and_checked_exactly() -> None:
    store = SessionStore()
    _, one = store.open(Principal(request_id="", admin=True))
    _, two = store.open(Principal(request_id="", admin=True))
    assert one.csrf != two.csrf
    assert one.checks(one.csrf) and not one.checks(two.csrf)
    assert not one.checks(None) and not one.checks("") and not one.checks(one.csrf[:-1])


def _failed(tenant: str | None, n: int) -> RequestRecord:
    record = RequestRecord(
        principal=Principal(request_id=f"r{n}", tenant=tenant),
        kind="chat",
        alias="smart",
        started_at=float(n),
        started=0.0,
    )
    record.status = "error"
    record.error_type = "provider_unavailable"
    return record


def test_recent_errors_keep_the_newest_failures_per_tenant() -> None:
    ring = RecentErrors(size=3)
    ok = _failed("acme", 0)
    ok.status = "success"
    ring.emit(ok)
    for n, tenant in enumerate(["acme", "globex", "acme", "globex"], start=1):
        ring.emit(_failed(tenant, n))
    assert [f.request_id for f in ring.latest()] == ["r4", "r3", "r2"]
    assert [f.request_id for f in ring.latest("acme", every=False)] == ["r3"]
