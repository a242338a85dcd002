"""deploy/grafana/switchyard.json is a valid dashboard whose every expression names only metrics
(and labels) GET /metrics exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from switchyard.records.metrics import METRIC_NAMES, Metrics
from switchyard.records.record import AttemptRecord, RequestRecord
from switchyard.types import Cost, Principal, Usage

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "switchyard.json"
METRIC = re.compile(r"\b((?:llm|switchyard)_[a-z_]+)\b")
SERIES_LABELS = {"job", "instance"}  # added by Prometheus when it scrapes


def exposed() -> dict[str, tuple[str, set[str]]]:
    """Every family's type and label names, from a sink that has seen one of everything."""
    m = Metrics(aliases=["smart"], deployments=[("a", "a-1")], providers=["a"])
    m.emit(
        RequestRecord(
            principal=Principal("r", tenant="acme"),
            kind="stream",
            alias="smart",
            started_at=0.0,
            started=0.0,
            provider="a",
            model="a-1",
            ttft_ms=1.0,
            usage=Usage(input_tokens=1, output_tokens=1),
            cost=Cost(total=1.0),
            attempts=[AttemptRecord("a/a-1", "ok")],
        )
    )
    m.set_breakers([("a", "a-1", "closed")])
    m.set_queue("usage", 1, 1)
    m.set_in_flight(1)
    families: dict[str, tuple[str, set[str]]] = {}
    for family in m.registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = {label for sample in family.samples for label in sample.labels}
        families[name] = (family.type, labels - {"le"})
    assert set(families) == set(METRIC_NAMES)
    return families


def expressions(dashboard: dict[str, Any]) -> list[str]:
    found = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append(variable["definition"])
    return found


def test_the_dashboard_is_valid_and_names_only_exposed_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    families = exposed()
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all({"x", "y", "w", "h"} <= p["gridPos"].keys() for p in panels)
    assert all(p.get("targets") for p in panels if p["type"] != "row")
    used: set[str] = set()
    for expr in expressions(dashboard):
        names = METRIC.findall(expr)
        assert names, expr
        labels: set[str] = set(SERIES_LABELS)
        for name in names:
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if base != name:
                assert families[base][0] == "histogram", f"{name}: not a histogram's series"
                labels |= {"le"} if name.endswith("_bucket") else set()
            assert base in families, f"{name} in {expr!r} is not exposed"
            labels |= families[base][1]
            used.add(base)
        grouped = re.findall(r"\bby \(([^)]*)\)", expr)
        matched = re.findall(r"\{([^}]*)\}", expr)
        named = {x.strip() for group in grouped for x in group.split(",") if x.strip()}
        named |= {re.split(r"[=!~]", m)[0].strip() for g in matched for m in g.split(",") if m}
        named |= set(re.findall(r"label_values\([^,]+, *(\w+)\)", expr))
        assert named <= labels, f"{expr!r} names labels {named - labels} no metric has"
    # the panels the issue asks for: requests, errors, latency, tokens, cost, breakers
    assert {
        "llm_requests_total",
        "llm_response_duration_seconds",
        "llm_time_to_first_token_seconds",
        "llm_tokens_used_total",
        "llm_cost_dollars_total",
        "llm_circuit_breaker_state",
    } <= used


def test_the_readme_alerts_name_only_exposed_metrics() -> None:
    readme = (DASHBOARD.parents[2] / "README.md").read_text()
    section = readme.split("### Alerts worth having", 1)[1].split("\n## ", 1)[0]
    rules = re.findall(r"^\s+expr: (.+)$", section, re.MULTILINE)
    families = exposed()
    assert len(rules) >= 8
    for expr in rules:
        for name in METRIC.findall(expr):
            assert re.sub(r"_(bucket|sum|count)$", "", name) in families, expr
