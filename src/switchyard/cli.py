"""``switchyard``: serve, chat, models, config check, db upgrade."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from switchyard.config.load import load_config
from switchyard.config.schema import MASTER_KEY_ENV, SwitchyardConfig
from switchyard.errors import ConfigError, SwitchyardError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
config_app = typer.Typer(no_args_is_help=True, help="Work with config files.")
app.add_typer(config_app, name="config")
db_app = typer.Typer(no_args_is_help=True, help="The usage database (the storage section).")
app.add_typer(db_app, name="db")
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
) -> None:
    """Run the HTTP service."""
    _one_blas_thread()
    from switchyard.gateway import Gateway
    from switchyard.records.sinks import LogSink
    from switchyard.server.app import create_app
    from switchyard.server.logs import FORMATS, LEVELS, configure_logging
    from switchyard.server.run import serve as serve_app

    settings = _load(config)
    server = settings.server
    if host is not None:
        server.host = host
    if port is not None:
        server.port = port
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
    logs = configure_logging(log_level or server.log_level, log_format=server.log_format)
    try:
        gateway = Gateway(
            settings, sinks=[LogSink(lines=logs, structured=server.log_format == "json")]
        )
        started = serve_app(create_app(gateway, server), server)
    finally:
        logs.close()  # writes the lines still pending
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
    """List aliases, their deployments and what the catalog knows about each."""
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
    Console().print(table)


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
