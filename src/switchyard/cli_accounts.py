"""``switchyard keys`` and ``switchyard tenants``: the admin API's work, straight on the database.

The commands open the database of the config's ``storage`` section themselves (no server
needed) through the same :class:`~switchyard.tenancy.accounts.Accounts` the Gateway builds, so
they check and store exactly what ``/api/v1/admin/*`` does. :func:`open_accounts` is the one
place that builds it. A key's secret is printed once, by ``keys create``, and never again.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from switchyard.config.load import load_config
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import ConfigError, StorageUnavailable, SwitchyardError

if TYPE_CHECKING:  # the storage extra's SQLAlchemy, imported only by the commands that need it
    from switchyard.tenancy.accounts import Accounts
    from switchyard.tenancy.store import KeyRow

T = TypeVar("T")

keys_app = typer.Typer(
    no_args_is_help=True, help="Virtual keys (kept in the storage section's database)."
)
tenants_app = typer.Typer(
    no_args_is_help=True, help="Tenants (the config's, and those kept in the database)."
)
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML config with a storage section (default: $SWITCHYARD_CONFIG)",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
ModelsOption = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", help="an alias (or provider/model) it may use; repeat for more"),
]

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class CannotOpen(Exception):
    """The accounts cannot be opened as configured (no storage section, a schema behind): the
    operator's to fix, said in one line."""


NO_STORAGE = (
    "no storage section in the config: tenants and keys are kept in its database; add one, "
    'e.g. storage: {url: "sqlite+aiosqlite:///switchyard.db"}'
)


@asynccontextmanager
async def open_accounts(config: SwitchyardConfig) -> AsyncIterator[Accounts]:
    """The config's tenants and the keys in its database, as the Gateway builds them: the
    schema checked first (SQLite migrated, PostgreSQL refused when behind), the engine
    disposed after. Whatever must hear of a revocation is added to ``revoke_listeners`` here."""
    if config.storage is None:
        raise CannotOpen(NO_STORAGE)
    from sqlalchemy.exc import SQLAlchemyError

    from switchyard.storage.engine import build_engine
    from switchyard.storage.migrate import SchemaBehind, ensure_schema
    from switchyard.tenancy.accounts import Accounts
    from switchyard.tenancy.store import KeyStore

    engine = build_engine(config.storage)
    try:
        try:
            await ensure_schema(engine)
        except SchemaBehind as exc:
            raise CannotOpen(str(exc)) from None
        except (SQLAlchemyError, OSError) as exc:
            where = engine.url.render_as_string(hide_password=True)
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise StorageUnavailable(f"the database at {where} did not answer: {reason}") from None
        accounts = Accounts(
            config.tenants,
            KeyStore(engine),
            aliases={alias.name for alias in config.models},
            providers=set(config.providers),
        )
        if config.storage.redis_url is None:
            yield accounts
            return
        # the running replicas forget a key revoked here at once, not after their key cache
        from switchyard.tenancy.revocations import RevocationBroadcast

        broadcast = RevocationBroadcast(config.storage.redis_url)
        accounts.revoke_listeners.append(broadcast.publish)
        try:
            yield accounts
        finally:
            await broadcast.aclose()
    finally:
        await engine.dispose()


def _with_accounts(config_path: Path | None, work: Callable[[Accounts], Awaitable[T]]) -> T:
    """Run ``work`` on the config's accounts; any failure is one red line and exit status 1
    (2 for a config that cannot be used), never a traceback."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2) from None

    async def run() -> T:
        async with open_accounts(config) as accounts:
            return await work(accounts)

    try:
        return asyncio.run(run())
    except CannotOpen as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2) from None
    except SwitchyardError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w``, or several at once (``1d12h``)."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 90m, 45s, 2w or 1d12h")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return timedelta(seconds=seconds)


def _expiry(expires_in: str | None, expires_at: str | None) -> datetime | None:
    if expires_in is not None and expires_at is not None:
        raise typer.BadParameter("give --expires-in or --expires-at, not both")
    if expires_in is not None:
        try:
            return datetime.now(UTC) + parse_duration(expires_in)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--expires-in") from None
    if expires_at is not None:
        try:
            moment = datetime.fromisoformat(expires_at)
        except ValueError:
            raise typer.BadParameter(
                f"{expires_at!r} is not an ISO 8601 time like 2027-01-31 or 2027-01-31T12:00Z",
                param_hint="--expires-at",
            ) from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return None


def _table(title: str) -> Table:
    """A plain table, one space between columns: a key's row fits an 80-column terminal."""
    return Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))


def _print_json(body: Any) -> None:
    sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")


def _problem(exc: Exception) -> str:
    """A pydantic complaint about a CLI value, as one line naming the field."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}"
    return str(exc)


# -- keys -------------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="the tenant the key belongs to")],
    user: Annotated[str | None, typer.Option(help="the user it is for (free text)")] = None,
    name: Annotated[str | None, typer.Option(help="a label to know it by")] = None,
    model: ModelsOption = None,
    expires_in: Annotated[
        str | None, typer.Option(help="expire after this long: 30d, 12h, 90m, 2w, 1d12h")
    ] = None,
    expires_at: Annotated[
        str | None, typer.Option(help="expire at this ISO 8601 time (UTC unless it says)")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it: the only time it is shown."""
    from pydantic import ValidationError

    from switchyard.tenancy.settings import KeySpec

    expiry = _expiry(expires_in, expires_at)
    try:
        spec = KeySpec(tenant=tenant, user=user, name=name, models=model or None, expires_at=expiry)
    except ValidationError as exc:
        raise typer.BadParameter(_problem(exc)) from None

    async def create(accounts: Accounts) -> tuple[KeyRow, str]:
        return await accounts.create_key(spec)

    row, secret = _with_accounts(config, create)
    if as_json:
        _print_json({"id": row.id, "key": secret, **row.public()})
    else:
        sys.stdout.write(secret + "\n")  # alone on stdout: KEY=$(switchyard keys create ...)
    err.print(
        f"[yellow]key {row.id} for tenant {row.tenant!r} created. This is the only time the key "
        "is shown: store it now (only its hash is kept).[/yellow]",
        highlight=False,
    )


@keys_app.command("list")
def keys_list(
    tenant: Annotated[
        str | None, typer.Option("--tenant", "-t", help="only this tenant's keys")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List keys (never their secrets)."""

    async def read(accounts: Accounts) -> list[KeyRow]:
        return await accounts.keys(tenant)

    rows = _with_accounts(config, read)
    if as_json:
        _print_json([row.public() for row in rows])
        return
    now = datetime.now(UTC)
    table = _table("Switchyard keys (UTC)")
    for column in ("id", "tenant", "user", "name", "models", "created", "expires", "status"):
        # ids and times stay whole on a narrow terminal; the free text wraps
        whole = column in {"id", "created", "expires", "status"}
        table.add_column(column, no_wrap=whole, overflow="ellipsis" if whole else "fold")
    for row in rows:
        if row.revoked_at is not None:
            status = "[red]revoked[/red]"
        elif row.expires_at is not None and row.expires_at <= now:
            status = "[yellow]expired[/yellow]"
        else:
            status = "[green]active[/green]"
        table.add_row(
            row.id,
            row.tenant,
            row.user or "",
            row.name or "",
            "all" if row.models is None else ", ".join(row.models),
            _day(row.created_at),
            _day(row.expires_at) or "never",
            status,
        )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="the key's id (from keys list)")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key: refused from then on (a server caching it forgets it within its TTL)."""

    async def revoke(accounts: Accounts) -> KeyRow:
        return await accounts.revoke_key(key_id)

    row = _with_accounts(config, revoke)
    if as_json:
        _print_json(row.public())
    else:
        Console().print(
            f"[green]revoked[/green]: key {row.id} of tenant {row.tenant!r} "
            f"(at {_when(row.revoked_at)})",
            highlight=False,
        )


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _day(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d")


# -- tenants ----------------------------------------------------------------------------------


@tenants_app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="letters, digits, '.', '_' and '-'")],
    model: ModelsOption = None,
    default_model: Annotated[
        str | None, typer.Option(help="the alias used when a request names none")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant in the database (a tenant in the config's tenants: needs no creating)."""
    from pydantic import ValidationError

    from switchyard.tenancy.settings import TenantSettings

    try:
        tenant = TenantSettings(name=name, models=model or None, default_model=default_model)
    except ValidationError as exc:
        raise typer.BadParameter(_problem(exc)) from None

    async def create(accounts: Accounts) -> dict[str, Any]:
        return await accounts.create_tenant(tenant)

    view = _with_accounts(config, create)
    if as_json:
        _print_json(view)
    else:
        Console().print(f"[green]created[/green]: tenant {view['name']!r}", highlight=False)


@tenants_app.command("list")
def tenants_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List tenants: the config's and those created through the API or the CLI."""

    async def read(accounts: Accounts) -> list[dict[str, Any]]:
        return await accounts.tenants()

    views = _with_accounts(config, read)
    if as_json:
        _print_json(views)
        return
    table = _table("Switchyard tenants")
    for column in ("name", "source", "models", "default", "limits", "budget"):
        table.add_column(column)
    for view in views:
        limits = view["limits"] or {}
        budget = view["budget"]
        table.add_row(
            view["name"],
            view["source"],
            "all" if view["models"] is None else ", ".join(view["models"]),
            view["default_model"] or "",
            " ".join(f"{k}={v}" for k, v in limits.items() if v is not None),
            "" if budget is None else f"${budget['usd']}/{budget['period']}",
        )
    Console().print(table)


@tenants_app.command("delete")
def tenants_delete(
    name: Annotated[str, typer.Argument(help="a tenant created through the API or the CLI")],
    config: ConfigOption = None,
) -> None:
    """Delete a tenant kept in the database (refused while it has keys not revoked)."""

    async def delete(accounts: Accounts) -> None:
        await accounts.delete_tenant(name)

    _with_accounts(config, delete)
    Console().print(f"[green]deleted[/green]: tenant {name!r}", highlight=False)


__all__ = ["CannotOpen", "keys_app", "open_accounts", "parse_duration", "tenants_app"]
