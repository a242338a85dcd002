"""The dashboard's HTML: pure functions from what the Gateway answered to page fragments.

Every value from outside (names, error messages, key metadata) goes through :func:`esc`; the
page frame and the login page are string templates in ``templates/``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from html import escape
from importlib.resources import files
from string import Template
from typing import Any

import orjson

from switchyard.admission import LimitReading
from switchyard.records.recent_errors import FailedRequest
from switchyard.status import ProviderStatus
from switchyard.usage.report import UsageGroup, UsageStats

PAGES = (  # (path, title, admin only)
    ("/ui/providers", "Providers", True),
    ("/ui/usage", "Usage", False),
    ("/ui/limits", "Limits and budgets", False),
    ("/ui/errors", "Recent errors", False),
    ("/ui/keys", "Keys", False),
    ("/ui/tenants", "Tenants", True),
    ("/ui/playground", "Playground", False),
)


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


@cache
def template(name: str) -> Template:
    return Template(files("switchyard.doors.ui").joinpath("templates", name).read_text("utf-8"))


def page(
    title: str, body: str, *, path: str, admin: bool, who: str, csrf: str, flash: Sequence[str]
) -> str:
    nav = "".join(
        f'<a href="{href}"{" class=current" if href == path else ""}>{esc(name)}</a>'
        for href, name, admin_only in PAGES
        if admin or not admin_only
    )
    told = "".join(f'<div class="flash" role="status">{esc(m)}</div>' for m in flash)
    return template("layout.html").substitute(
        title=esc(title), nav=nav, who=esc(who), csrf=esc(csrf), flash=told, body=body
    )


def login_page(csrf: str, problem: str | None = None) -> str:
    shown = f'<p class="problem" role="alert">{esc(problem)}</p>' if problem else ""
    return template("login.html").substitute(csrf=esc(csrf), problem=shown)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, table_id: str = "") -> str:
    """``rows`` hold HTML already (escape values with :func:`esc`)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    ident = f' id="{esc(table_id)}"' if table_id else ""
    if not body:
        body = f'<tr><td colspan="{len(headers)}">nothing yet</td></tr>'
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def limit_readings_table(readings: Sequence[LimitReading]) -> str:
    """One row per limit or budget: whose, which, the limit, used, remaining (with a meter),
    and when a day's or month's counter starts again."""
    rows = []
    for reading in readings:
        who = "all requests" if reading.level == "global" else reading.owner
        used, left = reading.used, reading.remaining
        meter = ""
        if used is not None and reading.limit:
            meter = (
                f'<meter min="0" max="{reading.limit}" value="{min(used, reading.limit)}">'
                f"{used / reading.limit:.0%}</meter>"
            )
        ident = f"{reading.level}:{reading.owner}:{reading.name}"
        rows.append(
            [
                esc(reading.level),
                f'<span data-reading="{esc(ident)}">{esc(who)}</span>',
                esc(reading.name),
                esc(_amount(reading.limit, reading.unit)),
                esc("per minute" if reading.period == "minute" else reading.period),
                esc("unknown" if used is None else _amount(used, reading.unit)) + meter,
                esc("unknown" if left is None else _amount(left, reading.unit)),
                esc(_resets(reading.resets_in)),
            ]
        )
    headers = [
        "Level",
        "Tenant or key",
        "Limit",
        "Allowed",
        "Per",
        "Used",
        "Remaining",
        "Resets in",
    ]
    return table(headers, rows, table_id="limit-readings")


def _amount(value: Decimal, unit: str) -> str:
    if unit == "usd":
        return f"${value:.6f}"
    count = int(value)
    return f"{count:,} {unit.removesuffix('s') if count == 1 else unit}"


def _resets(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds / 60:.0f} min"


def post_button(action: str, label: str, csrf: str, *, button_id: str = "") -> str:
    ident = f' id="{esc(button_id)}"' if button_id else ""
    return (
        f'<form method="post" action="{esc(action)}" class="inline">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        f'<button type="submit"{ident}>{esc(label)}</button></form>'
    )


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def usd(value: Decimal | float | None) -> str:
    return "unpriced" if value is None else f"${value:.6f}"


# -- providers --------------------------------------------------------------------------------


def providers_table(providers: Sequence[ProviderStatus], csrf: str) -> str:
    rows = []
    for p in providers:
        test = post_button(
            f"/ui/providers/{p.name}/test", "Test now", csrf, button_id=f"test-{p.name}"
        )
        for n, d in enumerate(p.deployments):
            state = d.breaker.state if d.breaker is not None else "unknown"
            h = d.health
            rows.append(
                [
                    esc(p.name),
                    f'<span class="status-{esc(p.status)}">{esc(p.status)}</span>',
                    esc(d.model),
                    f'<span class="status-{esc(h.status)}">{esc(h.status)}</span>',
                    f'<span class="state-{esc(state)}" data-breaker="{esc(d.key)}">'
                    f"{esc(state)}</span>",
                    esc(h.requests),
                    f"{h.error_rate:.0%}",
                    ms(h.latency_p50_ms),
                    ms(h.latency_p95_ms),
                    ms(h.ttft_ms),
                    esc(h.last_error or ""),
                    test if n == 0 else "",
                ]
            )
    headers = ["Provider", "Provider status", "Model", "Health", "Breaker", "Requests"]
    headers += ["Errors", "p50", "p95", "TTFT", "Last error", ""]
    return table(headers, rows, table_id="providers")


def providers_body(fragment: str) -> str:
    # htmx polls the table (every 3 s) so a breaker that opens shows without a reload
    return (
        '<div hx-get="/ui/providers/table" hx-trigger="every 3s" hx-swap="innerHTML">'
        f"{fragment}</div>"
    )


# -- usage ------------------------------------------------------------------------------------


def stats_cells(stats: UsageStats) -> list[str]:
    return [
        esc(stats.requests),
        esc(stats.input_tokens),
        esc(stats.output_tokens),
        esc(usd(stats.cost_usd)),
        esc(stats.errors),
        esc(stats.cache_hits),
        ms(stats.latency_p50_ms),
        ms(stats.latency_p95_ms),
    ]


STATS_HEADERS = ["Requests", "Input tokens", "Output tokens", "Cost", "Errors", "Cache hits"]
STATS_HEADERS += ["p50", "p95"]


def usage_table(by: str, groups: Sequence[UsageGroup]) -> str:
    rows = [[esc(g.keys.get(by) or "(none)"), *stats_cells(g.stats)] for g in groups]
    return f"<h2>By {esc(by)}</h2>" + table([by.title(), *STATS_HEADERS], rows, table_id=f"by-{by}")


def chart_data(charts: list[dict[str, Any]]) -> str:
    """The charts' data for dashboard.js, in a block the browser never runs (``</`` escaped)."""
    text = orjson.dumps(charts).decode().replace("</", "<\\/")
    return f'<script type="application/json" id="usage-data">{text}</script>'


def cards(items: Sequence[tuple[str, str]]) -> str:
    inner = "".join(f'<div class="card">{esc(label)}<b>{esc(v)}</b></div>' for label, v in items)
    return f'<div class="cards">{inner}</div>'


# -- errors -----------------------------------------------------------------------------------


def errors_table(failures: Sequence[FailedRequest]) -> str:
    rows = [
        [
            esc(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(f.at))),
            esc(f.request_id),
            esc(f.tenant or ""),
            esc(f.key_id or ""),
            esc(f.alias),
            esc(f.deployment or ""),
            esc(f.error_type or ""),
            esc(f.http_status),
            esc(f.attempts),
            ms(f.latency_ms),
        ]
        for f in failures
    ]
    headers = ["Started (UTC)", "Request", "Tenant", "Key", "Model", "Last deployment"]
    headers += ["Error", "HTTP", "Attempts", "Latency"]
    return table(headers, rows, table_id="errors")


__all__ = ["PAGES", "esc", "login_page", "page", "table"]
