"""One version of a prompt template, wherever it came from (the config or the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from switchyard.templates.settings import TemplateMessage, TemplateSpec

Source = Literal["config", "api"]


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    """Immutable: a (name, version) means the same template on every replica, forever."""

    name: str
    version: int
    messages: tuple[TemplateMessage, ...]
    variables: tuple[str, ...]  # the declared names
    schema: dict[str, Any] | None
    description: str | None
    source: Source
    created_at: datetime | None = None  # None: from the config

    @classmethod
    def of(
        cls, spec: TemplateSpec, version: int, source: Source, created_at: datetime | None = None
    ) -> TemplateVersion:
        return cls(
            name=spec.name,
            version=version,
            messages=tuple(spec.message_sources()),
            variables=tuple(spec.declared()),
            schema=spec.schema_,
            description=spec.description,
            source=source,
            created_at=created_at,
        )

    @property
    def required(self) -> tuple[str, ...]:
        """The variables a caller must pass: all declared ones, unless the schema says which
        through its ``required``."""
        if self.schema is not None and "required" in self.schema:
            return tuple(n for n in self.variables if n in self.schema["required"])
        if self.schema is not None:
            return ()
        return self.variables

    def public(self) -> dict[str, Any]:
        """The version as the admin API shows it."""
        return {
            "object": "prompt_template",
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "messages": [m.model_dump() for m in self.messages],
            "variables": list(self.variables),
            "schema": self.schema,
            "source": self.source,
            "created_at": None if self.created_at is None else self.created_at.isoformat(),
        }


__all__ = ["Source", "TemplateVersion"]
