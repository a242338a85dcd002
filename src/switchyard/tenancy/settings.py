"""The shapes of a tenant (``tenants:`` in the config, ``POST /api/v1/admin/tenants``) and of a
key to create (``POST /api/v1/admin/keys``); both are checked against the configured aliases by
:func:`check_models`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from switchyard.guardrails import GuardrailSettings, Policy, check_names
from switchyard.guardrails.settings import MAX_GUARDRAILS
from switchyard.types.grants import Budget, Grant, Limits

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class TenantSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)
    models: list[str] | None = Field(
        default=None, description="aliases (or provider/model names) it may use; unset: all"
    )
    default_model: str | None = Field(
        default=None, description="the alias used when a request names none"
    )
    limits: Limits | None = None
    budget: Budget | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    guardrails: list[GuardrailSettings] = Field(
        default_factory=list,
        max_length=MAX_GUARDRAILS,
        description="checks on its requests and answers, after the alias's own",
    )

    _names = field_validator("guardrails")(check_names)

    def grant(self) -> Grant:
        models = None if self.models is None else frozenset(self.models)
        policy = Policy.of([g.rule for g in self.guardrails])
        return Grant(models, self.default_model, self.limits, self.budget, guardrails=policy)


class KeySpec(BaseModel):
    """A key to create. ``models``, ``limits`` and ``budget`` may only narrow the tenant's."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=1, max_length=255)
    user: str | None = Field(default=None, min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    models: list[str] | None = None
    limits: Limits | None = None
    budget: Budget | None = None
    expires_at: AwareDatetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


def check_models(
    models: list[str] | None, known: Collection[str], providers: Collection[str], where: str
) -> None:
    """ValueError naming ``where[i]`` for a name that is neither a configured alias nor a
    ``provider/model`` of a configured provider."""
    for i, name in enumerate(models or ()):
        provider, slash, _ = name.partition("/")
        if name not in known and not (slash and provider in providers):
            raise ValueError(f"{where}[{i}]: unknown model {name!r} (not a configured alias)")


def narrowed(
    tenant: Grant,
    key_models: list[str] | None,
    expires_at: datetime | None,
    *,
    limits: Limits | None = None,
    budget: Budget | None = None,
) -> Grant:
    """The tenant's grant as one key holds it: the key's models (within the tenant's), and the
    key's own limits and budget next to the tenant's (both are enforced)."""
    models = tenant.models
    if key_models is not None:
        wanted = frozenset(key_models)
        models = wanted if models is None else wanted & models
    expiry = None if expires_at is None else expires_at.timestamp()
    return tenant._replace(models=models, expires_at=expiry, key_limits=limits, key_budget=budget)


__all__ = ["NAME_PATTERN", "KeySpec", "TenantSettings", "check_models", "narrowed"]
