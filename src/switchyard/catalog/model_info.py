"""What the gateway knows about a model: limits, prices, capabilities, strengths."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.types import Prices


class ModelCapabilities(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    streaming: bool = True
    tools: bool = False
    vision: bool = False
    json_mode: bool = False
    embeddings: bool = False


class ModelInfo(BaseModel):
    """One catalog entry. ``name`` is the upstream model id (``gpt-4.1``, ``claude-sonnet-4-5``);
    ``provider`` is the family that serves it (``openai``, ``anthropic``, ``gemini`` ...)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    provider: str
    mode: Literal["chat", "embedding"] = "chat"
    context_window: int = Field(ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)
    dimensions: int | None = Field(
        default=None, ge=1, description="embedding models: the default vector size"
    )
    prices: Prices = Field(default_factory=Prices)
    capabilities: ModelCapabilities = Field(default_factory=ModelCapabilities)
    strengths: list[str] = Field(default_factory=list)
    use_cases: list[str] = Field(default_factory=list)
    quality: float | None = Field(default=None, ge=0, le=100)
    aliases: list[str] = Field(default_factory=list, description="other ids of the same model")


__all__ = ["ModelCapabilities", "ModelInfo"]
