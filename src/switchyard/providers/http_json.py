"""The boundary every JSON-over-HTTP adapter draws around a reply.

A non-2xx status raises the taxonomy error the provider's :data:`ErrorMapper` says it means
(for a stream before anything is yielded, so the gateway can still fail over); a body that is
not JSON, or stream bytes that are not UTF-8, raise ``UpstreamProtocolError`` naming the
provider. What a reply's JSON means stays with each adapter.

:func:`status_error` is the one place an error status becomes the error a client sees: the
mapper picks the class (from a body :class:`~switchyard.providers.http.HttpClient` has already
redacted); an error body that is not JSON (a proxy's HTML page) is not passed on but logged,
the client reading ``provider 'mirror' answered 502 with a non-JSON body``; and a provider that
refused the gateway's own credentials is logged at ERROR, as an operator must fix it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson

from switchyard.errors import SwitchyardError, UpstreamAuthenticationError, UpstreamProtocolError
from switchyard.providers.http import (
    ErrorMapper,
    HttpClient,
    HttpReply,
    StreamingReply,
    error_body,
)
from switchyard.streaming.sse import SseEvent, SseParser

logger = logging.getLogger("switchyard.providers")


def status_error(
    status: int, headers: Mapping[str, str], body: bytes, map_error: ErrorMapper
) -> SwitchyardError:
    """The error a non-2xx reply means, as a client may see it (see the module's docstring)."""
    error = map_error(status, headers, body)
    provider = error.provider or "?"
    payload, text = error_body(body)
    if text is not None:
        logger.warning("provider %r answered %d with a non-JSON body: %s", provider, status, text)
        _reword(error, f"provider {provider!r} answered {status} with a non-JSON body")
    elif payload is None:
        _reword(error, f"provider {provider!r} answered {status} with an empty body")
    if isinstance(error, UpstreamAuthenticationError):
        logger.error(
            "provider %r refused the gateway's credentials (HTTP %d: %s): check its api_key "
            "and headers; its deployments fail over meanwhile",
            provider,
            status,
            error.message,
        )
    return error


def _reword(error: SwitchyardError, message: str) -> None:
    error.message = message
    error.args = (message,)


def raise_for_status(reply: HttpReply, map_error: ErrorMapper) -> None:
    """Raise what ``reply`` means when its status is not 2xx."""
    if not 200 <= reply.status < 300:
        raise status_error(reply.status, reply.headers, reply.body, map_error)


def parse_json(body: bytes, provider: str) -> Any:
    """``body`` as JSON, or ``UpstreamProtocolError``."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError(
            f"upstream sent malformed JSON: {exc}", provider=provider
        ) from exc


def reply_json(reply: HttpReply, map_error: ErrorMapper, provider: str) -> Any:
    """The reply's JSON, or the taxonomy error its status or content means."""
    raise_for_status(reply, map_error)
    return parse_json(reply.body, provider)


@asynccontextmanager
async def open_stream(
    http: HttpClient,
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    map_error: ErrorMapper,
) -> AsyncIterator[StreamingReply]:
    """POST ``body`` and open the streamed reply, raising what an error status means before
    anything is read from it; the response is released when the block exits."""
    async with http.stream("POST", url, body=body, headers=headers) as reply:
        if not 200 <= reply.status < 300:
            raise status_error(reply.status, reply.headers, await reply.read(), map_error)
        yield reply


def sse_events(parser: SseParser, data: bytes | None, provider: str) -> list[SseEvent]:
    """The events ``data`` completes (None: the bytes ended, flush what is left)."""
    try:
        return parser.feed(data) if data is not None else parser.finish()
    except UnicodeDecodeError as exc:
        raise UpstreamProtocolError("upstream stream is not UTF-8", provider=provider) from exc


__all__ = [
    "open_stream",
    "parse_json",
    "raise_for_status",
    "reply_json",
    "sse_events",
    "status_error",
]
