"""The ``storage`` config section: the usage database and how the ledger writes to it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        default="sqlite+aiosqlite:///switchyard.db",
        description="sqlite+aiosqlite:///FILE (embedded) or postgresql+asyncpg://USER@HOST/DB",
    )
    queue_size: int = Field(
        default=10_000, ge=1, description="records waiting to be written; beyond: dropped, counted"
    )
    full_wait_seconds: float = Field(
        default=0.1,
        ge=0,
        le=10,
        description="with the queue full, how long a new request waits for room before going "
        "on (its record is then dropped and counted)",
    )
    batch_size: int = Field(default=500, ge=1, description="rows written per transaction")
    flush_seconds: float = Field(default=1.0, gt=0, description="longest wait before a write")
    spool: bool = Field(
        default=True,
        description="append every queued row to a local file first, so a process killed "
        "outright loses only its in-flight requests' rows (replayed by the next ledger on "
        "this host)",
    )
    spool_dir: str | None = Field(
        default=None,
        description="where the spool lives; by default $XDG_STATE_HOME/switchyard/spool/"
        "<digest of url> (~/.local/state/...), one per database, shared by the host's workers",
    )
    key_cache_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="how long a replica trusts a virtual key it looked up before asking again",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://HOST:PORT/DB: revoked keys are announced to every replica at once",
    )

    @field_validator("url")
    @classmethod
    def _known_driver(cls, url: str) -> str:
        if not url.startswith(SCHEMES):
            raise ValueError(f"url must start with one of {', '.join(SCHEMES)}")
        return url


__all__ = ["StorageSettings"]
