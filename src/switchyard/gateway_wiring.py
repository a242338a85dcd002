"""What the Gateway builds from the ``storage`` section: the usage ledger, tenants and keys,
the key cache with its revocation broadcast, the spend budgets start from, and the stored
prompt templates.

Everything here is imported only when ``storage`` is configured (the storage extra's
SQLAlchemy, the tenancy stores), so a gateway without it pays nothing for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from switchyard.config.schema import SwitchyardConfig

if TYPE_CHECKING:
    from switchyard.limits.limiter import SpendOf
    from switchyard.response_store.store import ResponseStore
    from switchyard.templates.store import TemplateStore
    from switchyard.tenancy.accounts import Accounts
    from switchyard.tenancy.keyring import KeyRing
    from switchyard.tenancy.revocations import RevocationBroadcast
    from switchyard.usage.ledger import UsageLedger


class Storage(NamedTuple):
    """The storage-backed parts (all None without a ``storage`` section)."""

    ledger: UsageLedger | None = None  # one usage row per request, written off the path
    accounts: Accounts | None = None
    keyring: KeyRing | None = None
    revocations: RevocationBroadcast | None = None
    spend: SpendOf | None = None  # budgets seed their counters from the ledger
    templates: TemplateStore | None = None  # prompt templates made through the admin API
    responses: ResponseStore | None = None  # stored Responses API answers


def wire_storage(config: SwitchyardConfig) -> Storage:
    settings = config.storage
    if settings is None:
        return Storage()
    from switchyard.limits.spend import LedgerSpend
    from switchyard.response_store.database import DatabaseResponseStore
    from switchyard.storage.engine import build_engine
    from switchyard.templates.store import TemplateStore
    from switchyard.tenancy.accounts import Accounts
    from switchyard.tenancy.keyring import KeyRing
    from switchyard.tenancy.store import KeyStore
    from switchyard.usage.ledger import UsageLedger

    engine = build_engine(settings)
    accounts = Accounts(
        config.tenants,
        KeyStore(engine),
        aliases={alias.name for alias in config.models},
        providers=set(config.providers),
    )
    # virtual keys, looked up at most once per key_cache_seconds; a revocation made here is
    # forgotten here at once, and (with redis_url) on every replica
    keyring = KeyRing(accounts, ttl=settings.key_cache_seconds)
    accounts.revoke_listeners.append(keyring.forget)
    revocations = None
    if settings.redis_url is not None:
        from switchyard.tenancy.revocations import RevocationBroadcast

        revocations = RevocationBroadcast(settings.redis_url, keyring.forget, keyring.clear)
        accounts.revoke_listeners.append(revocations.publish)
    return Storage(
        ledger=UsageLedger(settings, engine=engine),
        accounts=accounts,
        keyring=keyring,
        revocations=revocations,
        spend=LedgerSpend(engine).units,
        templates=TemplateStore(engine),
        responses=DatabaseResponseStore(engine, config.responses.retention_days),
    )
