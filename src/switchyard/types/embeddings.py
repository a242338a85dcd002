"""Canonical embedding types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.types.chat import ServedBy
from switchyard.types.usage import Cost, Usage


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    input: list[str]
    dimensions: int | None = None
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None


class EmbeddingResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    provider: str = ""
    data: list[list[float]]
    usage: Usage = Field(default_factory=Usage)
    cost: Cost | None = None
    served_by: ServedBy | None = None


__all__ = ["EmbeddingRequest", "EmbeddingResponse"]
