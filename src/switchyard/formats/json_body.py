"""An upstream's reply body as JSON: the one place a body that is not JSON becomes
``UpstreamProtocolError`` naming the provider. Pure, so translators and the HTTP helper share
it."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.errors import UpstreamProtocolError


def parse_json(data: bytes | str, provider: str | None) -> Any:
    """``data`` as JSON, or ``UpstreamProtocolError`` naming ``provider``."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError(
            f"upstream sent malformed JSON: {exc}", provider=provider
        ) from exc


__all__ = ["parse_json"]
