"""The HTTP client every HTTP adapter sends with.

aiohttp, not httpx: on this hot path it costs about a quarter of the CPU per request (see
``bench/README.md``). This module is the only one that imports it; everything it raises is a
:mod:`switchyard.errors` class, so transport failures map onto the taxonomy in one place.
Beside it, what every adapter shares in writing a request's headers (:func:`json_headers`) and
reading an error reply (:func:`retry_after_seconds`, :func:`error_body`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from switchyard.errors import ProviderUnavailable, SwitchyardError, Timeout
from switchyard.providers.base import Timeouts
from switchyard.resilience.retry import sane_retry_after

ErrorMapper = Callable[[int, Mapping[str, str], bytes], SwitchyardError]


@dataclass(slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class StreamingReply:
    """An open streaming response; iterate ``chunks()`` for the raw bytes as they arrive."""

    def __init__(self, response: aiohttp.ClientResponse, provider: str) -> None:
        self._response = response
        self._provider = provider
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.content.iter_any():
                yield data
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            raise ProviderUnavailable(
                f"upstream stream broke: {exc.__class__.__name__}", provider=self._provider
            ) from exc

    async def read(self) -> bytes:
        """The rest of the body, whole (an error reply's, which is short)."""
        return b"".join([piece async for piece in self.chunks()])


class HttpClient:
    """One pooled aiohttp session per provider, created lazily inside the running loop."""

    def __init__(self, provider: str, timeouts: Timeouts | None = None) -> None:
        self.provider = provider
        self.timeouts = timeouts or Timeouts()
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeouts.connect, connect=self.timeouts.connect
                ),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpReply:
        """Send and read the whole reply. Connection failures raise ``ProviderUnavailable``."""
        try:
            async with self._get_session().request(
                method, url, data=body, headers=headers
            ) as response:
                data = await response.read()
                return HttpReply(response.status, response.headers, data)
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise self._unavailable(exc) from exc
        except TimeoutError as exc:
            raise Timeout("upstream connect timed out", provider=self.provider) from exc

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[StreamingReply]:
        """Open a streaming request; the response is closed when the block exits."""
        try:
            response = await self._get_session().request(method, url, data=body, headers=headers)
        except aiohttp.ClientConnectionError as exc:
            raise self._unavailable(exc) from exc
        except TimeoutError as exc:
            raise Timeout("upstream connect timed out", provider=self.provider) from exc
        try:
            yield StreamingReply(response, self.provider)
        finally:
            response.release()
            response.close()

    def _unavailable(self, exc: BaseException) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"cannot reach upstream: {exc.__class__.__name__}: {exc}", provider=self.provider
        )

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def json_headers(own: Mapping[str, str | None], configured: Mapping[str, str]) -> dict[str, str]:
    """The headers of a JSON API's requests: JSON ``content-type`` and ``accept``, the adapter's
    ``own`` (auth, API version; None: not sent), then the ``headers`` the config sets, which win
    whatever their case."""
    headers = {"content-type": "application/json", "accept": "application/json"}
    headers.update({name: value for name, value in own.items() if value is not None})
    for name, value in configured.items():
        headers[name.lower()] = value
    return headers


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (delta-seconds or an HTTP date).

    None when absent or not a sane wait (``inf``, ``nan``, negative, garbage: a ``retry-after-ms``
    like that falls back to ``retry-after``); a huge one is cut to a day (see
    :func:`~switchyard.resilience.retry.sane_retry_after`). A plain dict's names may be in any
    case (aiohttp's header mapping ignores case already).
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
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):  # not a date, or one out of range
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


__all__ = [
    "ErrorMapper",
    "HttpClient",
    "HttpReply",
    "StreamingReply",
    "error_body",
    "json_headers",
    "retry_after_seconds",
]
