"""The ``cache:`` section and a model alias's ``cache:`` (DESIGN.md, "Identity, limits and
money"): where answers are kept, for how long, and how much of them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CacheSettings(BaseModel):
    """``cache:``. Present: every alias (and every ``provider/model`` name) is cached with
    ``ttl_seconds`` unless its own ``cache:`` says otherwise. Absent: nothing is cached.

    ``memory`` (the default) keeps each process's answers in a least-recently-used table
    bounded by ``max_entries`` and ``max_bytes``; ``redis`` shares them between replicas
    through ``url`` (the TTL is Redis's own expiry). An unreachable Redis fails open: a
    lookup is a miss and a store is dropped (counted in the stats, logged at most once a
    minute), and it is asked again a second later, so it recovers without a restart."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["memory", "redis"] = "memory"
    url: str | None = Field(default=None, description="redis only: redis://host:port/db")
    ttl_seconds: float = Field(default=3600.0, gt=0, allow_inf_nan=False)
    max_entries: int = Field(default=10_000, ge=1, description="memory only")
    max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024, description="memory only")
    max_entry_bytes: int = Field(
        default=1024 * 1024, ge=256, description="a larger answer is served, never stored"
    )
    prefix: str = Field(default="switchyard:cache:", min_length=1, description="redis keys")
    timeout_seconds: float = Field(
        default=0.25, gt=0, description="Redis connect and reply timeout; past it, fail open"
    )

    @model_validator(mode="after")
    def _url_for_redis(self) -> CacheSettings:
        if self.backend == "redis" and not self.url:
            raise ValueError("cache.url: the redis backend needs a url (redis://host:port/db)")
        if self.backend == "memory" and self.url:
            raise ValueError("cache.url: only the redis backend takes a url")
        return self


class SemanticSettings(BaseModel):
    """``cache: {semantic: ...}`` on an alias: a request whose exact answer is not cached may be
    answered with the cached answer of a request that differs only in its last user
    message(s), when their embeddings are at least ``threshold`` alike (cosine similarity)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: float = Field(default=0.95, gt=0, le=1)
    embedding_model: str = Field(
        default="local-embed",
        min_length=1,
        description="an embedding alias (or provider/model) of this config",
    )
    max_entries: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="vectors searched per tenant and conversation at most (oldest out first)",
    )


class AliasCacheSettings(BaseModel):
    """A model alias's ``cache:``: ``enabled: false`` leaves the alias out of the cache;
    ``ttl_seconds`` overrides the global TTL for its answers; ``semantic`` turns on the
    semantic cache for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    ttl_seconds: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    semantic: SemanticSettings | None = None


__all__ = ["AliasCacheSettings", "CacheSettings", "SemanticSettings"]
