"""A request's ``"switchyard": {"template": {...}}`` object, as the OpenAI and Anthropic doors
read it: ``{"name", "version"?, "variables"?}`` -> :class:`~switchyard.types.TemplateRef`,
checked here so an error names the caller's own path (``switchyard.template.version``)."""

from __future__ import annotations

from typing import Any

from switchyard.errors import InvalidRequest
from switchyard.types import TemplateRef
from switchyard.types.chat import MAX_TEMPLATE_VARIABLES

KEYS = frozenset({"name", "version", "variables"})


def template_ref(value: Any, path: str) -> TemplateRef:
    """``value`` (found at ``path`` in the body) as a template reference; 400 naming the
    field at fault."""
    if not isinstance(value, dict):
        raise _invalid(path, "must be an object with a 'name'")
    for key in value:
        if key not in KEYS:
            raise _invalid(f"{path}.{key}", f"unknown; expected one of {sorted(KEYS)}")
    name = value.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 128:
        raise _invalid(f"{path}.name", "must be a string of 1 to 128 characters")
    version = value.get("version")
    if version is not None and (
        not isinstance(version, int) or isinstance(version, bool) or version < 1
    ):
        raise _invalid(f"{path}.version", "must be an integer of at least 1")
    variables = value.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise _invalid(f"{path}.variables", "must be an object")
    if len(variables) > MAX_TEMPLATE_VARIABLES:
        raise _invalid(f"{path}.variables", f"at most {MAX_TEMPLATE_VARIABLES} variables")
    return TemplateRef(
        name=name,
        version=version,
        variables=variables,
        param=path,
        variables_param=f"{path}.variables",
    )


def names_template(controls: Any) -> bool:
    """Whether a body's ``switchyard`` object names a template (then ``messages`` may be
    empty: the template's are the conversation)."""
    return isinstance(controls, dict) and controls.get("template") is not None


def _invalid(param: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid '{param}': {problem}.", param=param)


__all__ = ["names_template", "template_ref"]
