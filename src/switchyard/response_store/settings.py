"""The ``responses`` config section: where Responses API answers are kept."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ResponseStoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_stored: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="responses kept in memory without a storage section (least recently used "
        "dropped first); with storage they are kept in its database",
    )
    max_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024,
        description="at most this many bytes of stored JSON (input items and answers) in memory; "
        "past it the least recently used are dropped",
    )
    retention_days: float | None = Field(
        default=30,
        gt=0,
        description="a stored response older than this is gone (404) and is deleted from the "
        "database; null: kept until deleted (OpenAI keeps them 30 days)",
    )


__all__ = ["ResponseStoreSettings"]
