"""Reading an upstream's error reply: its body (JSON, or the text of a proxy's page) and how
long it asks us to wait. Every error mapper needs these, the OpenAI codec's and each adapter's,
so they sit below both, beside the error taxonomy."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

# The longest Retry-After the gateway believes or passes on: a day (a daily quota's reset).
RETRY_AFTER_CEILING = 86_400.0


def sane_retry_after(seconds: float | None) -> float | None:
    """An upstream's wait as the gateway trusts it: None unless it is a finite number of
    seconds >= 0 (``inf``, ``nan`` and negatives say nothing), and at most a day."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0.0:
        return None
    return min(seconds, RETRY_AFTER_CEILING)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (delta-seconds or an HTTP date).

    None when absent or not a sane wait (``inf``, ``nan``, negative, garbage: a ``retry-after-ms``
    like that falls back to ``retry-after``); a huge one is cut to a day (see
    :func:`sane_retry_after`). A plain dict's names may be in any case (aiohttp's header
    mapping ignores case already).
    """
    if isinstance(headers, dict):
        headers = {key.lower(): value for key, value in headers.items()}
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            seconds = sane_retry_after(float(raw_ms) / 1000.0)
        except ValueError:
            seconds = None
        if seconds is not None:
            return seconds
    raw = headers.get("retry-after")
    if raw:
        try:
            return sane_retry_after(float(raw))
        except ValueError:
            return sane_retry_after(_http_date_delta(raw))
    return None


def error_body(body: bytes) -> tuple[Any, str | None]:
    """An error reply's body as ``(payload, None)`` when it is JSON (None when empty), else as
    ``(None, text)``: its first 500 characters (None when blank), such as a proxy's HTML page."""
    try:
        return (orjson.loads(body) if body else None), None
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return None, text[:500] or None


def _http_date_delta(value: str) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):  # not a date, or one out of range
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


__all__ = ["RETRY_AFTER_CEILING", "error_body", "retry_after_seconds", "sane_retry_after"]
