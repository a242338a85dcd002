"""Reading an upstream's error reply: its body (JSON, or the text of a proxy's page) and how
long it asks us to wait. Every error mapper needs these, the OpenAI codec's and each adapter's,
so they sit below both, beside the error taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (delta-seconds); None when absent.

    A plain dict's names may be in any case (aiohttp's header mapping ignores case already).
    """
    if isinstance(headers, dict):
        headers = {key.lower(): value for key, value in headers.items()}
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw:
        try:
            return max(float(raw), 0.0)
        except ValueError:
            return _http_date_delta(raw)
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
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


__all__ = ["error_body", "retry_after_seconds"]
