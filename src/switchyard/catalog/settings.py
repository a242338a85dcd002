"""``catalog`` in config: extra or overriding entries layered over the packaged catalog."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from switchyard.catalog.model_info import ModelInfo


class CatalogSettings(BaseModel):
    """Extra or overriding catalog entries; ``path`` names a YAML file of more entries."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    models: list[ModelInfo] = Field(default_factory=list)


__all__ = ["CatalogSettings"]
