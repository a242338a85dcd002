"""``switchyard``: serve, chat, models, usage, config check, keys, tenants, db upgrade."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from switchyard.cli_accounts import keys_app, tenants_app
from switchyard.config.load import CONFIG_ENV, load_config
from switchyard.config.schema import MASTER_KEY_ENV, SwitchyardConfig
from switchyard.errors import ConfigError, SwitchyardError

if TYPE_CHECKING:
    from switchyard.config.environment_providers import FoundProvider
    from switchyard.usage.report import UsageStats, UsageSummary

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
config_app = typer.Typer(no_args_is_help=True, help="Work with config files.")
app.add_typer(config_app, name="config")
db_app = typer.Typer(no_args_is_help=True, help="The usage database (the storage section).")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(tenants_app, name="tenants")
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML config (default: $SWITCHYARD_CONFIG, else the embedded defaults)",
        show_default=False,
    ),
]


def _load(path: Path | None) -> SwitchyardConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None


def _one_blas_thread() -> None:
    """numpy (the local embedding model) defaults to a BLAS thread per core, which on a small
    machine fights the event loop and llama.cpp: embeddings of 8 sentences took 300-700 ms
    under load instead of ~80 ms. Set before numpy is imported; an explicit setting wins."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="overrides server.host")] = None,
    port: Annotated[int | None, typer.Option(help="overrides server.port")] = None,
    log_level: Annotated[
        str | None,
        typer.Option(help="overrides server.log_level: debug, info, warning or error"),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(help="overrides server.log_format: console (text) or json (a line each)"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="overrides server.workers: processes sharing the port"),
    ] = None,
    ssl_certfile: Annotated[
        str | None, typer.Option(help="overrides server.ssl_certfile (HTTPS, with the key)")
    ] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(help="overrides server.ssl_keyfile")] = None,
) -> None:
    """Run the HTTP service."""
    _one_blas_thread()
    from switchyard.server.logs import FORMATS, LEVELS
    from switchyard.server.workers import run_gateway, run_workers

    settings = _load(config)
    server = settings.server
    if host is not None:
        server.host = host
    if port is not None:
        server.port = port
    if workers is not None:
        server.workers = workers
    if ssl_certfile is not None:
        server.ssl_certfile = ssl_certfile
    if ssl_keyfile is not None:
        server.ssl_keyfile = ssl_keyfile
    if (server.ssl_certfile is None) != (server.ssl_keyfile is None):
        err.print("[red]HTTPS needs both --ssl-certfile and --ssl-keyfile[/red]")
        raise typer.Exit(2)
    if not is_loopback(server.host) and server.master_key is None:
        err.print(
            f"[red]refusing to listen on {server.host}: a non-loopback address needs a master "
            f"key: set {MASTER_KEY_ENV} or server.master_key[/red]"
        )
        raise typer.Exit(2)
    if log_level is not None and log_level not in LEVELS:
        err.print(f"[red]--log-level must be one of {', '.join(LEVELS)}[/red]")
        raise typer.Exit(2)
    if log_format is not None:
        if log_format not in FORMATS:
            err.print(f"[red]--log-format must be one of {', '.join(FORMATS)}[/red]")
            raise typer.Exit(2)
        server.log_format = "json" if log_format == "json" else "console"
    if server.workers > 1:
        status = run_workers(settings, log_level)
        if status:
            raise typer.Exit(status)
        return
    try:
        started = run_gateway(settings, log_level)
    except ConfigError as exc:  # e.g. an OTEL_TRACES_EXPORTER it cannot honour
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    if not started:
        raise typer.Exit(3)  # uvicorn logged why it could not start


@app.command()
def chat(
    prompt: Annotated[str, typer.Argument(help="what to ask; '-' reads standard input")],
    model: Annotated[str, typer.Option("--model", "-m", help="alias or provider/model")] = "local",
    config: ConfigOption = None,
    system: Annotated[str | None, typer.Option(help="a system prompt")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="most tokens to generate")] = None,
    temperature: Annotated[float | None, typer.Option()] = None,
    stream: Annotated[bool, typer.Option(help="print the answer as it arrives")] = True,
) -> None:
    """Ask a model, in-process (no server needed), and print the answer."""
    _one_blas_thread()
    from switchyard.gateway import Gateway

    if prompt == "-":
        prompt = sys.stdin.read()
    messages: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    request: dict[str, Any] = {"model": model, "messages": messages}
    if max_tokens is not None:
        request["max_tokens"] = max_tokens
    if temperature is not None:
        request["temperature"] = temperature

    async def run() -> None:
        async with Gateway(_load(config)) as gateway:
            if not stream:
                response = await gateway.chat(request)
                sys.stdout.write(response.text + "\n")
                _footer(
                    response.provider,
                    response.model,
                    response.usage.input_tokens,
                    response.usage.output_tokens,
                )
                return
            answer = gateway.stream(request)
            usage = None
            async for chunk in answer:
                if chunk.text:
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
                usage = chunk.usage or usage
            sys.stdout.write("\n")
            served = answer.served_by
            _footer(
                served.provider if served else "?",
                served.model if served else "?",
                usage.input_tokens if usage else 0,
                usage.output_tokens if usage else 0,
            )

    try:
        asyncio.run(run())
    except SwitchyardError as exc:
        err.print(f"[red]{type(exc).__name__}: {exc}[/red]", highlight=False)
        raise typer.Exit(1) from None


def _footer(provider: str, model: str, tokens_in: int, tokens_out: int) -> None:
    err.print(f"[dim]{provider}/{model} · {tokens_in} in, {tokens_out} out[/dim]")


@app.command()
def models(config: ConfigOption = None) -> None:
    """List aliases, their deployments and what the catalog knows about each; with no config
    file, also the providers found in the environment (by variable name, never the key)."""
    from switchyard.catalog.catalog import Catalog

    settings = _load(config)
    catalog = Catalog.from_settings(settings.catalog)
    table = Table(title="Switchyard models")
    for column in ("alias", "strategy", "deployment", "context", "$/M in", "$/M out", "can"):
        table.add_column(column)
    for alias in settings.models:
        for i, deployment in enumerate(alias.deployments):
            info = catalog.get(deployment.model)
            prices = deployment.prices or (info.prices if info else None)
            can = ""
            if info is not None:
                caps = info.capabilities
                flags = {
                    "stream": caps.streaming,
                    "tools": caps.tools,
                    "vision": caps.vision,
                    "json": caps.json_mode,
                    "embed": caps.embeddings,
                }
                can = " ".join(name for name, on in flags.items() if on)
            table.add_row(
                alias.name if i == 0 else "",
                alias.strategy if i == 0 else "",
                f"{deployment.provider}/{deployment.model}",
                f"{info.context_window:,}" if info else "?",
                f"{prices.input:g}" if prices else "?",
                f"{prices.output:g}" if prices else "?",
                can,
            )
    console = Console()
    console.print(table)
    found = _environment_providers(config)
    if found:
        console.print(_environment_table(found))


def _environment_providers(path: Path | None) -> list[FoundProvider]:
    """The zero-config providers: only when no config file is read (a file's providers are
    its own)."""
    from switchyard.config.environment_providers import environment_providers

    if path is not None or os.environ.get(CONFIG_ENV):
        return []
    return environment_providers(os.environ)


def _environment_table(found: list[FoundProvider]) -> Table:
    """Which providers came from which variables: names only, never a key's value."""
    table = Table(title="Providers found in the environment (ask for provider/MODEL)")
    for column in ("provider", "type", "from"):
        table.add_column(column)
    for provider in found:
        table.add_row(provider.name, provider.type, ", ".join(provider.sources))
    return table


@app.command()
def usage(
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            "-g",
            help="comma-separated: tenant, key, user, alias, provider, model, template, hour, day",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="ISO 8601 date or time, inclusive (UTC unless it says)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 date or time, exclusive")] = None,
    tenant: Annotated[str | None, typer.Option(help="only this tenant's requests")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the JSON GET /api/v1/usage/summary answers")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Requests, tokens, cost, errors, cache hits and latency from the usage database."""
    settings = _load(config)
    if settings.storage is None:
        err.print("[red]no storage section in the config: no usage is recorded[/red]")
        raise typer.Exit(2)
    from sqlalchemy.engine import make_url

    from switchyard.storage.engine import build_engine
    from switchyard.usage.report import summary_json
    from switchyard.usage.summary import summarize

    url = make_url(settings.storage.url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # asking would create an empty file (the server creates and migrates it on start)
        err.print(f"[red]no usage database at {url.database}: nothing recorded yet[/red]")
        raise typer.Exit(1)

    async def run(engine: Any) -> UsageSummary:
        try:
            return await summarize(engine, group_by, since, until, tenant)
        finally:
            await engine.dispose()

    try:
        summary = asyncio.run(run(build_engine(settings.storage)))
    except SwitchyardError as exc:
        cause = f": {exc.__cause__}" if exc.__cause__ is not None else ""
        err.print(f"[red]{exc}{cause}[/red]", highlight=False)
        raise typer.Exit(2 if exc.status_code == 400 else 1) from None
    if as_json:
        sys.stdout.write(orjson.dumps(summary_json(summary), option=orjson.OPT_INDENT_2).decode())
        sys.stdout.write("\n")
        return
    # piped: as wide as the table needs (Rich would squeeze it into 80 columns)
    console = Console() if sys.stdout.isatty() else Console(width=250)
    console.print(_usage_table(summary))


def _usage_table(summary: UsageSummary) -> Table:
    from switchyard.usage.report import stats_json

    query = summary.query
    span = f"{query.since.isoformat() if query.since else 'the start'} to "
    span += query.until.isoformat() if query.until else "now"
    table = Table(
        title=f"Switchyard usage, {span}" + (f", tenant {query.tenant}" if query.tenant else "")
    )
    numbers = ("requests", "in", "out", "cached", "reasoning", "cost $", "unpriced", "errors",
               "cache hits", "p50 ms", "p95 ms")  # fmt: skip
    for name in query.group_by:
        table.add_column(name)
    for name in numbers:
        table.add_column(name, justify="right")

    def cells(stats: UsageStats) -> list[str]:
        shown = stats_json(stats)
        latency = shown["latency_ms"]
        return [
            f"{shown['requests']:,}",
            f"{shown['input_tokens']:,}",
            f"{shown['output_tokens']:,}",
            f"{shown['cached_tokens']:,}",
            f"{shown['reasoning_tokens']:,}",
            shown["cost_usd"] if shown["cost_usd"] is not None else "-",
            f"{shown['unpriced_requests']:,}",
            f"{shown['errors']:,}",
            f"{shown['cache_hits']:,}",
            "-" if latency["p50"] is None else f"{latency['p50']:.1f}",
            "-" if latency["p95"] is None else f"{latency['p95']:.1f}",
        ]

    for group in summary.groups:
        keys = ["-" if v is None else str(v) for v in group.keys.values()]
        table.add_row(*keys, *cells(group.stats))
    total_label = ["total", *([""] * (len(query.group_by) - 1))] if query.group_by else []
    if summary.groups:
        table.add_section()
    table.add_row(*total_label, *cells(summary.totals), style="bold")
    if summary.truncated:
        table.caption = (
            f"only the first {len(summary.groups):,} groups are shown; totals are of all"
        )
    return table


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="the YAML file to validate")]) -> None:
    """Validate a config file; errors name the offending key."""
    settings = _load(path)
    Console().print(
        f"[green]ok[/green]: {len(settings.providers)} provider(s), "
        f"{len(settings.models)} model alias(es)"
    )


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the usage tables in storage.url (PostgreSQL needs this before serve)."""
    settings = _load(config)
    if settings.storage is None:
        err.print("[red]no storage section in the config: nothing to upgrade[/red]")
        raise typer.Exit(2)
    from switchyard.storage.engine import build_engine
    from switchyard.storage.migrate import head, upgrade

    async def run(engine: Any) -> None:
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run(build_engine(settings.storage)))
    Console().print(f"[green]ok[/green]: the usage database is at revision {head()}")


__all__ = ["app", "is_loopback"]
