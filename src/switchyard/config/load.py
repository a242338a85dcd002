"""Reading a config: YAML, ``${VAR}`` interpolation, validation with errors that name the key."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from switchyard.config.environment_providers import environment_providers
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import ConfigError
from switchyard.guardrails.settings import GUARDRAIL_TYPES
from switchyard.providers.registry import ADAPTERS

CONFIG_ENV = "SWITCHYARD_CONFIG"
log = logging.getLogger("switchyard.config")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string, recursively.

    A value that is exactly one unset ``${VAR}`` (no default) becomes None, so an optional
    secret such as ``master_key: ${SWITCHYARD_MASTER_KEY}`` is simply absent when unset.
    """
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _VAR.fullmatch(value)
    if whole and whole.group(2) is None and whole.group(1) not in env:
        return None
    return _VAR.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)


def read_yaml(text: str, source: str) -> dict[str, Any]:
    """Parse YAML whose scalars may hold ``${VAR}``, even inside flow mappings
    (``{master_key: ${KEY}}`` is not valid YAML as written, so each reference is swapped for a
    plain placeholder while parsing, then put back)."""
    references: list[str] = []

    def protect(match: re.Match[str]) -> str:
        references.append(match.group(0))
        return f"__switchyard_ref_{len(references) - 1}__"

    try:
        data = yaml.safe_load(_VAR.sub(protect, text))
    except yaml.YAMLError as exc:
        raise ConfigError([("(file)", f"not valid YAML: {exc}")], source) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([("(file)", "the top level must be a mapping")], source)
    restored: dict[str, Any] = _restore(data, references)
    return restored


_REF = re.compile(r"__switchyard_ref_(\d+)__")


def _restore(value: Any, references: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _restore(v, references) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, references) for v in value]
    if isinstance(value, str) and "__switchyard_ref_" in value:
        return _REF.sub(lambda m: references[int(m.group(1))], value)
    return value


def default_config_text() -> str:
    return resources.files("switchyard.config").joinpath("defaults.yaml").read_text("utf-8")


def load_config(
    source: str | Path | Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> SwitchyardConfig:
    """Build a validated config from a path, a mapping, ``$SWITCHYARD_CONFIG`` or the defaults."""
    env = os.environ if env is None else env
    name, embedded = "config", source is None and not env.get(CONFIG_ENV)
    if source is None and env.get(CONFIG_ENV):
        source = env[CONFIG_ENV]
    if source is None:
        raw = read_yaml(default_config_text(), "embedded defaults")
        name = "embedded defaults"
    elif isinstance(source, Mapping):
        raw = dict(source)
    else:
        path = Path(source)
        name = str(path)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise ConfigError([("(file)", f"cannot read: {exc.strerror}")], name) from exc
        raw = read_yaml(text, name)
    raw = interpolate(raw, env)
    if embedded:  # no config file: the providers found in the environment join (after the
        # interpolation: a key is taken as it is)
        add_environment_providers(raw, env)
    return validate_config(raw, name)


def add_environment_providers(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    """The zero-config providers (see :mod:`switchyard.config.environment_providers`) join the
    embedded defaults' own, which keep their names."""
    providers = raw.setdefault("providers", {})
    found = [p for p in environment_providers(env) if p.name not in providers]
    for provider in found:
        providers[provider.name] = provider.settings
    if found:  # names only, never a value
        log.info(
            "providers from the environment: %s",
            ", ".join(f"{p.name} ({', '.join(p.sources)})" for p in found),
        )


def validate_config(raw: dict[str, Any], source: str = "config") -> SwitchyardConfig:
    try:
        return SwitchyardConfig(**raw)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors()], source) from None


def _describe(error: Any) -> tuple[str, str]:
    loc = list(error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    if "guardrails" in loc:
        return _describe_guardrail(error, loc, message)
    # A discriminated union puts the chosen tag in the location; a reader wants the key path.
    if len(loc) >= 3 and loc[0] == "providers" and isinstance(loc[2], str) and loc[2].islower():
        if loc[2] in ADAPTERS:
            del loc[2]
    if error.get("type") == "union_tag_invalid" or error.get("type") == "union_tag_not_found":
        loc.append("type")
        given = error.get("ctx", {}).get("tag", "")
        message = f"unknown provider type {given!r} (known types: {', '.join(sorted(ADAPTERS))})"
        if error.get("type") == "union_tag_not_found":
            message = f"missing (known types: {', '.join(sorted(ADAPTERS))})"
    if not loc and message.startswith("Value error, ") and ": " in message:
        key, _, rest = message.removeprefix("Value error, ").partition(": ")
        return key, rest
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    if error.get("type") == "extra_forbidden":
        message = "unknown key"
    return key or "(config)", message


_FIELD = re.compile(r"^(\[\d+\]\.)?[a-z_]+$")


def _describe_guardrail(error: Any, loc: list[Any], message: str) -> tuple[str, str]:
    """A guardrail's key path without the union's tag (``models[0].guardrails[1].pattern``),
    the field a validator names in its message moved into the path."""
    at = loc.index("guardrails")
    if len(loc) > at + 2 and loc[at + 2] in GUARDRAIL_TYPES:
        del loc[at + 2]
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        loc.append("type")
        message = f"unknown guardrail type (known types: {', '.join(GUARDRAIL_TYPES)})"
    elif message.startswith("Value error, "):
        field, sep, rest = message.removeprefix("Value error, ").partition(": ")
        if sep and _FIELD.match(field):
            loc.append(field)
            message = rest
    elif error.get("type") == "extra_forbidden":
        message = "unknown key"
    key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc)
    return key.replace(".[", "["), message


__all__ = [
    "CONFIG_ENV",
    "add_environment_providers",
    "default_config_text",
    "interpolate",
    "load_config",
    "read_yaml",
    "validate_config",
]
