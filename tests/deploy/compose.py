"""deploy/compose.yaml as Compose reads it: the YAML (anchors merged) and its ``${VAR}``,
``${VAR:-default}`` and ``${VAR:?message}`` interpolation, enough to check our file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from tests.deploy.files import COMPOSE

_VAR = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # safe_load merges "<<"
    return data


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"][name]
    return found


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's substitution; a missing ``${VAR:?message}`` raises with the message."""

    def one(match: re.Match[str]) -> str:
        name, kind, text = match.groups()
        given = env.get(name, "")
        if kind == "?" and not given:
            raise LookupError(text)
        if kind == "-" and not given:
            return text
        return given

    return _VAR.sub(one, value)


def interpolated(value: Any, env: Mapping[str, str]) -> Any:
    """The whole file (or part of it) with every string interpolated, as Compose validates it."""
    if isinstance(value, dict):
        return {key: interpolated(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolated(item, env) for item in value]
    return interpolate(value, env) if isinstance(value, str) else value


def references(value: str) -> list[tuple[str, str | None]]:
    """The variables a value refers to, each with its kind ('-', '?' or None)."""
    return [(m.group(1), m.group(2)) for m in _VAR.finditer(value)]


def seconds(duration: str) -> float:
    """A Compose duration (``45s``, ``1m30s``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


__all__ = ["compose", "interpolate", "interpolated", "references", "seconds", "service"]
