"""The Helm chart rendered by Helm's own engine (helm-python-sdk, offline: no cluster), and
its manifests parsed; values every install must give (the Secrets' names) filled in."""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.files import CHART, tool_module

RELEASE = "sy"
REQUIRED: dict[str, Any] = {
    "masterKey": {"existingSecret": "switchyard-master-key"},
    "database": {"passwordSecret": {"name": "switchyard-postgres"}},
}


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def render(values: dict[str, Any] | None = None, *, required: bool = True) -> list[dict[str, Any]]:
    """Every manifest of an install, parsed (NOTES.txt left out)."""
    helm = tool_module("helm_python")
    given = merged(REQUIRED, values or {}) if required else values or {}
    chart = helm.Chart.load(CHART)
    files = chart.render(given, name=RELEASE, namespace="llm", is_install=True)
    documents: list[dict[str, Any]] = []
    for path, text in sorted(files.items()):
        if path.endswith(".yaml"):
            documents.extend(d for d in yaml.safe_load_all(text) if d)
    return documents


def render_error(values: dict[str, Any], *, required: bool = True) -> str:
    helm = tool_module("helm_python")
    try:
        render(values, required=required)
    except helm.HelmError as exc:
        return str(exc)
    raise AssertionError("the chart rendered")


def one(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d
        for d in documents
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def kinds(documents: list[dict[str, Any]]) -> list[str]:
    return sorted(d["kind"] for d in documents)


__all__ = ["RELEASE", "kinds", "one", "render", "render_error"]
