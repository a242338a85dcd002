"""What a caller may do: limits, budgets, and the grant a tenant (narrowed by its key) holds.

``Limits`` and ``Budget`` are the config's shapes (``tenants[].limits``, a key's ``budget``...)
as DESIGN.md names them; the limits and budget stages enforce them. A :class:`Grant` is what
authentication hands the Gateway along with the :class:`~switchyard.types.Principal`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Requests and tokens per window; an unset field is no limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpm: int | None = Field(default=None, ge=1, description="requests per minute")
    tpm: int | None = Field(default=None, ge=1, description="tokens per minute")
    tokens_per_day: int | None = Field(default=None, ge=1)
    tokens_per_month: int | None = Field(default=None, ge=1)


class Budget(BaseModel):
    """US dollars per period (``total``: never reset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    usd: Decimal = Field(gt=0, max_digits=18, decimal_places=10)
    period: Literal["day", "month", "total"] = "month"


class Grant(NamedTuple):
    """A tenant's access as one key holds it. ``models`` None: every alias and deployment;
    otherwise exactly these names (aliases, or ``provider/model`` direct names).

    ``limits`` and ``budget`` are the tenant's (shared by all its keys); ``key_limits`` and
    ``key_budget`` the key's own, enforced on top (both levels apply)."""

    models: frozenset[str] | None = None
    default_model: str | None = None
    limits: Limits | None = None
    budget: Budget | None = None
    expires_at: float | None = None  # wall clock (time.time()); None: never
    key_limits: Limits | None = None
    key_budget: Budget | None = None
    # the tenant's compiled guardrails (a switchyard.guardrails.Policy; typed loosely: the
    # types sit below the guardrails), None: it has none
    guardrails: object | None = None

    def allows(self, model: str) -> bool:
        return self.models is None or model in self.models


__all__ = ["Budget", "Grant", "Limits"]
