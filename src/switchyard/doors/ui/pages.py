"""The dashboard's pages: each asks the Gateway's queries (never the router, breakers or
ledger behind them) and renders with :mod:`switchyard.doors.ui.views`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from switchyard.doors.ui import views
from switchyard.doors.ui.views import esc, table
from switchyard.doors.ui.visit import Visit
from switchyard.errors import AdminRequired, NotConfigured, SwitchyardError
from switchyard.gateway import Gateway

USAGE_DAYS = 30  # the charts' window
USAGE_BREAKDOWNS = ("tenant", "key", "alias", "provider")


async def providers_table(gateway: Gateway, visit: Visit) -> str:
    if not visit.admin:
        raise AdminRequired("the providers page needs the master key")
    report = await gateway.provider_status()
    note = ""
    if report.breaker_store_error is not None:
        note = f'<p class="problem">breaker store: {esc(report.breaker_store_error.message)}</p>'
    return note + views.providers_table(report.providers, visit.csrf)


async def providers(gateway: Gateway, visit: Visit) -> str:
    return views.providers_body(await providers_table(gateway, visit))


async def usage(gateway: Gateway, visit: Visit) -> str:
    since = (datetime.now(UTC) - timedelta(days=USAGE_DAYS)).date()
    try:
        by_day = await gateway.usage_summary(visit.principal, group_by="day", since=since)
    except NotConfigured as missing:
        return f'<p class="problem">{esc(missing.message)}</p>'
    totals = by_day.totals
    hit_rate = totals.cache_hits / totals.requests if totals.requests else 0.0
    items = [
        (f"Requests ({USAGE_DAYS} days)", str(totals.requests)),
        ("Cost", views.usd(totals.cost_usd)),
        ("Errors", str(totals.errors)),
        ("Cache hit rate", f"{hit_rate:.1%}"),
    ]
    items += await _cache_savings(gateway, visit)
    days = [g.keys.get("day") or "" for g in by_day.groups]
    charts: list[dict[str, Any]] = [
        {
            "id": "chart-cost-by-day",
            "type": "bar",
            "labels": days,
            "series": [
                {"label": "cost (USD)", "data": [_cost(g.stats.cost_usd) for g in by_day.groups]}
            ],
        },
        {
            "id": "chart-requests-by-day",
            "type": "bar",
            "labels": days,
            "series": [
                {"label": "requests", "data": [g.stats.requests for g in by_day.groups]},
                {"label": "errors", "data": [g.stats.errors for g in by_day.groups]},
                {"label": "cache hits", "data": [g.stats.cache_hits for g in by_day.groups]},
            ],
        },
    ]
    tables = []
    for by in USAGE_BREAKDOWNS:
        summary = await gateway.usage_summary(visit.principal, group_by=by, since=since)
        tables.append(views.usage_table(by, summary.groups))
        labels = [g.keys.get(by) or "(none)" for g in summary.groups]
        charts.append(
            {
                "id": f"chart-cost-by-{by}",
                "type": "bar",
                "labels": labels,
                "series": [
                    {
                        "label": "cost (USD)",
                        "data": [_cost(g.stats.cost_usd) for g in summary.groups],
                    }
                ],
            }
        )
    canvases = "".join(
        f'<div class="chart"><h3>{esc(c["id"].removeprefix("chart-").replace("-", " "))}</h3>'
        f'<canvas id="{esc(c["id"])}"></canvas></div>'
        for c in charts
    )
    return (
        views.cards(items)
        + f'<div class="charts">{canvases}</div>'
        + "".join(tables)
        + views.chart_data(charts)
    )


async def _cache_savings(gateway: Gateway, visit: Visit) -> list[tuple[str, str]]:
    cache = gateway.cache
    if cache is None:
        return [("Response cache", "off")]
    principal = visit.principal
    try:
        stats = await cache.stats(principal.tenant, every=principal.admin)
    except SwitchyardError as error:
        return [("Response cache", f"unavailable ({error.code})")]
    return [
        ("Cache hit rate (lookups)", f"{stats.hit_rate:.1%}"),
        ("Saved by the cache", views.usd(stats.stats.saved_usd)),
    ]


def _cost(value: Any) -> float:
    return 0.0 if value is None else float(value)


async def limits(gateway: Gateway, visit: Visit) -> str:
    parts = []
    if visit.admin:
        backend = await gateway.limits_status()
        if backend is None:
            parts.append("<p>No limits are configured (no <code>limits</code> section).</p>")
        else:
            rows = [[esc(k), esc(v)] for k, v in backend.items()]
            parts.append("<h2>Limits backend</h2>" + table(["Setting", "Value"], rows))
    if gateway.accounts is None:
        parts.append("<p>Tenants and keys need a <code>storage</code> section.</p>")
    parts.append(
        "<h2>Limits and budgets now</h2>"
        '<div hx-get="/ui/limits/table" hx-trigger="every 5s" hx-swap="innerHTML">'
        f"{await limits_table(gateway, visit)}</div>"
    )
    return "".join(parts)


async def limits_table(gateway: Gateway, visit: Visit) -> str:
    """Each limit and budget the visitor may see with what is used and what remains now (the
    limiter's own counters), refreshed every 5 s."""
    report = await gateway.limit_readings(visit.principal)
    if report.readings is None:
        return '<p class="problem">The limits backend cannot be read now.</p>'
    body = views.limit_readings_table(report.readings)
    shown = {r.owner for r in report.readings if r.level == "tenant"}
    unlimited = [name for name in report.tenants if name not in shown]
    if unlimited:
        body += f"<p>No limit or budget: {esc(', '.join(unlimited))}.</p>"
    if report.left_out:
        body += f"<p>{report.left_out} more tenants or keys with limits not shown.</p>"
    return body


def _limits_text(limits: dict[str, Any] | None) -> str:
    if not limits:
        return "none"
    return ", ".join(f"{k} {v}" for k, v in limits.items() if v is not None) or "none"


async def errors(gateway: Gateway, visit: Visit) -> str:
    failures = gateway.recent_errors(visit.principal)
    return (
        "<p>The last failed requests this process served (newest first).</p>"
        + views.errors_table(failures)
    )


async def keys(gateway: Gateway, visit: Visit) -> str:
    accounts = gateway.accounts
    if accounts is None:
        return "<p>Keys need a <code>storage</code> section in the config.</p>"
    rows_in = await accounts.keys(None if visit.admin else visit.principal.tenant or "")
    rows = []
    for row in rows_in:
        key = row.public()
        action = ""
        if visit.admin and key["revoked_at"] is None:
            action = views.post_button(
                f"/ui/keys/{key['id']}/revoke",
                "Revoke",
                visit.csrf,
                button_id=f"revoke-{key['id']}",
            )
        rows.append(
            [
                f'<span data-key="{esc(key["id"])}">{esc(key["id"])}</span>',
                esc(key["tenant"]),
                esc(key["name"] or ""),
                esc(key["user"] or ""),
                esc(", ".join(key["models"] or []) or "tenant's"),
                esc(key["created_at"]),
                esc(key["revoked_at"] or ""),
                action,
            ]
        )
    headers = ["Id", "Tenant", "Name", "User", "Models", "Created", "Revoked", ""]
    body = table(headers, rows, table_id="keys")
    if visit.admin:
        body += _form(
            "/ui/keys",
            visit.csrf,
            "Create a key",
            [
                ("tenant", "Tenant", True),
                ("name", "Name", False),
                ("user", "User", False),
                ("models", "Models (comma-separated, empty: the tenant's)", False),
            ],
            "create-key",
        )
    return body


async def tenants(gateway: Gateway, visit: Visit) -> str:
    if not visit.admin:
        raise AdminRequired("the tenants page needs the master key")
    accounts = gateway.accounts
    if accounts is None:
        return "<p>Tenants need a <code>storage</code> section in the config.</p>"
    rows = []
    for tenant in await accounts.tenants():
        action = ""
        if tenant.get("source") == "api":
            action = views.post_button(
                f"/ui/tenants/{tenant['name']}/delete",
                "Delete",
                visit.csrf,
                button_id=f"delete-{tenant['name']}",
            )
        rows.append(
            [
                esc(tenant["name"]),
                esc(", ".join(tenant.get("models") or []) or "all"),
                esc(_limits_text(tenant.get("limits"))),
                esc(tenant.get("source")),
                action,
            ]
        )
    body = table(["Name", "Models", "Limits", "Source", ""], rows, table_id="tenants")
    return body + _form(
        "/ui/tenants",
        visit.csrf,
        "Create a tenant",
        [("name", "Name", True), ("models", "Models (comma-separated, empty: all)", False)],
        "create-tenant",
    )


async def playground(gateway: Gateway, visit: Visit) -> str:
    options = "".join(
        f'<option value="{esc(m.id)}">{esc(m.id)}</option>' for m in gateway.models(visit.principal)
    )
    return (
        '<form id="playground">'
        f'<label>Model <select name="model" id="model">{options}</select></label>'
        '<label>Prompt <textarea name="prompt" id="prompt" maxlength="32000" required>'
        "</textarea></label>"
        '<button type="submit" id="send">Stream</button></form>'
        '<p id="status" role="status"></p><div id="output" data-chunks="0"></div>'
    )


def _form(
    action: str, csrf: str, title: str, fields: list[tuple[str, str, bool]], ident: str
) -> str:
    inputs = "".join(
        f'<label>{esc(label)} <input name="{esc(name)}" id="{esc(ident)}-{esc(name)}"'
        f'{" required" if required else ""} maxlength="256"></label>'
        for name, label, required in fields
    )
    return (
        f'<h2>{esc(title)}</h2><form method="post" action="{esc(action)}" id="{esc(ident)}">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">{inputs}'
        f'<button type="submit" id="{esc(ident)}-submit">{esc(title)}</button></form>'
    )


__all__ = [
    "errors",
    "keys",
    "limits",
    "limits_table",
    "playground",
    "providers",
    "tenants",
    "usage",
]
