"""What a prompt template is, as the config's ``templates:`` list and the admin API state it, and
the ``template_limits:`` section.

A template is one or more messages whose contents are Jinja2 templates: ``messages`` (each
``{role, content}``), or the shorthand ``template`` (one user message) with an optional
``system`` (a system message before it). ``variables`` declares the names a caller passes
(inferred from the template when left out; when given, the template may read no other);
``schema`` is an optional JSON Schema of the variables object (see
:mod:`switchyard.templates.schema`). Every declared variable is required unless a schema says
otherwise through its own ``required``.

Definitions are checked here, once, when they are read: syntax, the names the template reads,
the schema; a caller's request can then fail only on its own variables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchyard.templates.schema import SchemaViolation, check_schema

if TYPE_CHECKING:
    from switchyard.templates.sandbox import BoundedSandbox

MAX_VARIABLES = 64  # names a template declares, and a request passes
MAX_MESSAGES = 32
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

TemplateRole = Literal["system", "developer", "user", "assistant"]


class TemplateLimits(BaseModel):
    """``template_limits:``: how large a template and its output may be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_output_chars: int = Field(
        default=100_000,
        ge=1,
        description="characters a rendering may produce (all its messages); beyond: 400",
    )
    max_source_chars: int = Field(
        default=20_000, ge=1, description="characters of template text a definition may hold"
    )
    max_versions: int = Field(
        default=1000, ge=1, description="versions kept per template name (beyond: 409)"
    )
    compiled_cache: int = Field(
        default=256, ge=1, description="compiled template versions kept in memory per process"
    )


class TemplateMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: TemplateRole
    content: str = Field(min_length=1, description="a Jinja2 template")


class TemplateSpec(BaseModel):
    """A definition as ``POST /api/v1/admin/templates`` takes it (its version is assigned)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME, description="letters, digits, '_', '-', '.'; 128 at most")
    description: str | None = Field(default=None, max_length=2000)
    messages: list[TemplateMessage] | None = Field(
        default=None, min_length=1, max_length=MAX_MESSAGES
    )
    template: str | None = Field(
        default=None, min_length=1, description="shorthand: one user message"
    )
    system: str | None = Field(
        default=None, min_length=1, description="with template: a system message before it"
    )
    variables: list[str] | None = Field(
        default=None,
        max_length=MAX_VARIABLES,
        description="the names callers pass; left out: those the template reads",
    )
    schema_: dict[str, Any] | None = Field(
        default=None, alias="schema", description="a JSON Schema of the variables object"
    )

    @model_validator(mode="after")
    def _well_formed(self) -> TemplateSpec:
        if (self.messages is None) == (self.template is None):
            raise ValueError("give exactly one of messages and template")
        if self.system is not None and self.template is None:
            raise ValueError("system: goes with template; with messages, add a system message")
        for i, name in enumerate(self.variables or ()):
            if not _IDENTIFIER.match(name):
                raise ValueError(f"variables[{i}]: {name!r} is not a template identifier")
        if self.schema_ is not None:
            try:
                check_schema(self.schema_, "schema")
            except SchemaViolation as exc:
                raise ValueError(f"{exc.path}: {exc.problem}") from None
        used = self._names_used()
        declared = set(self.variables) if self.variables is not None else used
        undeclared = sorted(used - declared)
        if undeclared:
            raise ValueError(f"variables: the template reads {undeclared[0]!r}, not declared")
        schema = self.schema_ or {}
        for name in (*schema.get("properties", {}), *schema.get("required", ())):
            if name not in declared:
                raise ValueError(f"schema: names {name!r}, which is not a declared variable")
        return self

    def message_sources(self) -> list[TemplateMessage]:
        """The messages the definition renders, in order."""
        if self.messages is not None:
            return list(self.messages)
        assert self.template is not None
        system = (
            [] if self.system is None else [TemplateMessage(role="system", content=self.system)]
        )
        return [*system, TemplateMessage(role="user", content=self.template)]

    def declared(self) -> list[str]:
        """The variables callers pass: as declared, or else those the template reads."""
        if self.variables is not None:
            return list(dict.fromkeys(self.variables))
        return sorted(self._names_used())

    def source_chars(self) -> int:
        return sum(len(m.content) for m in self.message_sources())

    def _names_used(self) -> set[str]:
        # Jinja2 is imported when a template is defined, not by a config that defines none
        from jinja2 import TemplateSyntaxError

        from switchyard.templates.sandbox import names_used

        used: set[str] = set()
        for i, message in enumerate(self.message_sources()):
            try:
                used |= names_used(_syntax_checker(), message.content)
            except TemplateSyntaxError as exc:
                where = self._where(i)
                raise ValueError(f"{where}: line {exc.lineno}: {exc.message}") from None
        return used

    def _where(self, index: int) -> str:
        if self.messages is not None:
            return f"messages[{index}].content"
        return "system" if self.system is not None and index == 0 else "template"


class TemplateSettings(TemplateSpec):
    """An item of the config's ``templates:`` list: a spec with its ``version``."""

    version: int = Field(default=1, ge=1)


@lru_cache(maxsize=1)
def _syntax_checker() -> BoundedSandbox:
    """An environment to parse with (parsing does not depend on the output bound)."""
    from switchyard.templates.sandbox import BoundedSandbox

    return BoundedSandbox(max_output_chars=1)


def check_configured(templates: Sequence[TemplateSettings], limits: TemplateLimits) -> None:
    """The config's ``templates:`` as a whole: each (name, version) once, each within the
    size bound. Raises ``ValueError`` naming the item."""
    seen: set[tuple[str, int]] = set()
    for i, template in enumerate(templates):
        key = (template.name, template.version)
        if key in seen:
            raise ValueError(f"templates[{i}]: {template.name!r} version {template.version} twice")
        seen.add(key)
        if template.source_chars() > limits.max_source_chars:
            raise ValueError(
                f"templates[{i}]: {template.source_chars()} characters of template text, more "
                f"than template_limits.max_source_chars ({limits.max_source_chars})"
            )


__all__ = [
    "MAX_VARIABLES",
    "TemplateLimits",
    "TemplateMessage",
    "TemplateRole",
    "TemplateSettings",
    "TemplateSpec",
    "check_configured",
]
