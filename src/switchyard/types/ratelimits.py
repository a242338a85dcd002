"""The numbers behind OpenAI's ``x-ratelimit-*`` headers: the tightest limit a request met."""

from __future__ import annotations

import math
from typing import NamedTuple


class RateLimitStatus(NamedTuple):
    """The tightest request limit and the tightest token limit (None: no such limit applies).
    ``reset_*`` are seconds until that limit is whole again."""

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens: float | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.limit_requests is not None:
            out["x-ratelimit-limit-requests"] = str(self.limit_requests)
            out["x-ratelimit-remaining-requests"] = str(max(self.remaining_requests or 0, 0))
            out["x-ratelimit-reset-requests"] = duration(self.reset_requests or 0.0)
        if self.limit_tokens is not None:
            out["x-ratelimit-limit-tokens"] = str(self.limit_tokens)
            out["x-ratelimit-remaining-tokens"] = str(max(self.remaining_tokens or 0, 0))
            out["x-ratelimit-reset-tokens"] = duration(self.reset_tokens or 0.0)
        return out


def duration(seconds: float) -> str:
    """OpenAI's (Go's) duration format: ``17ms``, ``1s``, ``6m0s``, ``1h2m3s``."""
    if seconds < 1.0:
        return f"{math.ceil(max(seconds, 0.0) * 1000)}ms"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


__all__ = ["RateLimitStatus", "duration"]
