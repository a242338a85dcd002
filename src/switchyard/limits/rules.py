"""What one admission charges: a list of :class:`Rule`, each one counter with its limit.

Three kinds of counter, all charged together or not at all (one atomic step):

- ``GCRA`` (``rpm``, ``tpm``): the generic cell rate algorithm. One number per counter, the
  theoretical arrival time ``tat``; each unit (a request, a token) costs ``window / limit``
  seconds of it. A charge of ``n`` is admitted when ``max(tat, now) + n * window / limit - now
  <= window``: a full window's allowance may come at once (a burst of ``limit``), after which
  units come back continuously (one every ``window / limit`` seconds), a sliding window
  without the boundary doubling of fixed windows and without a log of past requests.
- ``QUOTA`` (``tokens_per_day``, ``tokens_per_month``): a plain counter for the calendar
  period (UTC), admitted when ``used + n <= limit``; it resets when the period ends.
- ``BUDGET`` (dollars, in units of 1e-10 USD): spent plus held for the period, admitted while
  ``spent + held < limit`` (the request then holds its maximum cost), so concurrent requests
  overshoot by at most one request's maximum cost. A missing counter is seeded from the ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal, NamedTuple

GCRA: Literal["g"] = "g"
QUOTA: Literal["q"] = "q"
BUDGET: Literal["b"] = "b"
Kind = Literal["g", "q", "b"]
Unit = Literal["requests", "tokens", "usd"]
USD_UNITS = Decimal("1e10")  # a budget counts in 1e-10 USD (the ledger's precision)
KEEP_AFTER_PERIOD = 86_400.0  # a calendar counter outlives its period by a day (late settles)


class BackendUnavailable(Exception):
    """The shared counters (Redis) could not be reached, or answered with an error."""


class Scope(NamedTuple):
    """Whose spend a budget counts, as the ledger's ``usage`` rows say it: ``column``
    (``tenant``, ``key_id`` or ``alias``) equal to ``value``, since ``since``."""

    column: Literal["tenant", "key_id", "alias"]
    value: str
    since: datetime


class Rule(NamedTuple):
    """One counter to charge ``amount`` against ``limit``.

    ``span``: the GCRA window (seconds), or the seconds left in a calendar period (its reset;
    0 for a budget that never resets)."""

    kind: Kind
    key: str
    limit: int
    amount: int
    span: float
    unit: Unit
    name: str  # what the caller is told: "tenant 'acme' rpm"
    scope: Scope | None = None  # a budget: whose spend the ledger sums when seeding


class Verdict(NamedTuple):
    """The outcome of one admission: ``refused`` is the index of the rule over its limit
    (None: admitted), with ``retry_after`` seconds; ``remaining`` and ``reset`` per rule
    (admitted only). ``seed``: the index of a budget counter that does not exist yet."""

    refused: int | None = None
    retry_after: float = 0.0
    remaining: tuple[float, ...] = ()
    reset: tuple[float, ...] = ()
    seed: int | None = None


class Correction(NamedTuple):
    """Add ``delta`` (may be negative) to a counter charged earlier; ``per`` is a GCRA
    counter's seconds per unit (``window / limit``)."""

    kind: Kind
    key: str
    delta: int
    per: float


def usd_units(usd: Decimal | float) -> int:
    value = usd if isinstance(usd, Decimal) else Decimal(repr(usd))
    return int((value * USD_UNITS).to_integral_value())


# the current period of each kind, (begins, ends, id, begins as a datetime): asked on every
# admission, rebuilt only when it has ended
_CURRENT: dict[str, tuple[float, float, str, datetime]] = {}


def period(name: Literal["day", "month", "total"], now: float) -> tuple[str, float, datetime]:
    """The calendar period (UTC) ``now`` (``time.time()``) falls in: its id for counter keys,
    the seconds left in it (0 for ``total``) and when it began (for the ledger's sum)."""
    current = _CURRENT.get(name)
    if current is not None and current[0] <= now < current[1]:
        return current[2], (current[1] - now) if name != "total" else 0.0, current[3]
    pid, left, start = _period(name, now)
    end = now + left if name != "total" else float("inf")
    _CURRENT[name] = (start.timestamp(), end, pid, start)
    return pid, left, start


def _period(name: Literal["day", "month", "total"], now: float) -> tuple[str, float, datetime]:
    moment = datetime.fromtimestamp(now, UTC)
    if name == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        end = datetime.fromtimestamp(start.timestamp() + 86_400, UTC)
        return start.strftime("%Y-%m-%d"), end.timestamp() - now, start
    if name == "month":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if start.month == 12:
            end = start.replace(year=start.year + 1, month=1)
        else:
            end = start.replace(month=start.month + 1)
        return start.strftime("%Y-%m"), end.timestamp() - now, start
    return "total", 0.0, datetime.fromtimestamp(0, UTC)


__all__ = [
    "BUDGET",
    "GCRA",
    "KEEP_AFTER_PERIOD",
    "QUOTA",
    "USD_UNITS",
    "BackendUnavailable",
    "Correction",
    "Kind",
    "Rule",
    "Scope",
    "Unit",
    "Verdict",
    "period",
    "usd_units",
]
