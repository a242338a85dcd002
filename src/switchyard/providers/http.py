"""The HTTP client every HTTP adapter sends with.

aiohttp, not httpx: on this hot path it costs about a quarter of the CPU per request (see
``bench/README.md``). Only this module and :mod:`~switchyard.providers.transport_errors` import
it; everything :class:`HttpClient` raises is a :mod:`switchyard.errors` class, so transport
failures of any kind (a refused connection, malformed HTTP, a body cut short) map onto the
taxonomy in one place, are logged there once (``switchyard.providers``, WARNING, redacted) and
fail over like any provider-side failure.

What the client bounds, per provider (:class:`~switchyard.providers.base.ProviderSettings`):
connections open at once (``max_connections``), the size of a reply read whole and of one line
of a stream (``max_reply_bytes``), and, for a call that is not streamed, the wait for response
headers (``timeout.first_token``, see :mod:`~switchyard.providers.headers_deadline`). It never
follows a redirect: a 3xx is an upstream error, so the provider's credentials never go to
another host. TLS certificates are always verified, against the system's authorities or
only those of the provider's ``ca_bundle``; the provider's ``proxy`` (never the environment's
``HTTP(S)_PROXY``) carries its requests when set. Every error reply's body is redacted (the
provider's secrets, anything shaped like a credential; :mod:`switchyard.redaction`) before an
error mapper reads it.

Beside it, what every adapter shares in writing a request's headers (:func:`json_headers`);
reading an error reply is :mod:`switchyard.error_replies`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import aiohttp

from switchyard.errors import SwitchyardError, Timeout, UpstreamProtocolError
from switchyard.providers.base import (
    MAX_CONNECTIONS,
    MAX_REPLY_BYTES,
    ProviderSettings,
    Timeouts,
)
from switchyard.providers.headers_deadline import headers_timeout
from switchyard.providers.trace_headers import with_trace_headers
from switchyard.providers.transport_errors import TRANSPORT_ERRORS, detail, transport_error
from switchyard.redaction import Redactor

ErrorMapper = Callable[[int, Mapping[str, str], bytes], SwitchyardError]

logger = logging.getLogger("switchyard.providers")

E = TypeVar("E", bound=SwitchyardError)


@dataclass(slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


class StreamingReply:
    """An open streaming response; iterate ``chunks()`` for the raw bytes as they arrive."""

    def __init__(self, response: aiohttp.ClientResponse, client: HttpClient) -> None:
        self._response = response
        self._client = client
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive. A line (of SSE or NDJSON) longer than
        ``max_reply_bytes`` raises ``UpstreamProtocolError`` rather than grow a parser's
        buffer without end."""
        limit = self._client.max_reply_bytes
        open_line = 0  # bytes since the last line ending
        try:
            async for data in self._response.content.iter_any():
                end = max(data.rfind(b"\n"), data.rfind(b"\r"))
                open_line = open_line + len(data) if end < 0 else len(data) - end - 1
                if open_line > limit:
                    raise self._client.too_large(f"a stream line over {limit} bytes")
                yield data
        except TRANSPORT_ERRORS as exc:
            raise self._client.failed(exc) from exc

    async def read(self) -> bytes:
        """The rest of the body, whole (an error reply's, redacted; or one JSON reply)."""
        try:
            return await self._client.read_body(self._response)
        except TRANSPORT_ERRORS as exc:
            raise self._client.failed(exc) from exc


class HttpClient:
    """One pooled aiohttp session per provider, created lazily inside the running loop."""

    def __init__(self, provider: str, settings: ProviderSettings | None = None) -> None:
        self.provider = provider
        self.timeouts: Timeouts = (settings.timeout if settings else None) or Timeouts()
        self.max_connections = settings.max_connections if settings else MAX_CONNECTIONS
        self.max_reply_bytes = settings.max_reply_bytes if settings else MAX_REPLY_BYTES
        self.redactor = Redactor(settings.secrets() if settings else ())
        ca_bundle = settings.ca_bundle if settings else None
        # certificates are always verified: against the system's CAs, or only ca_bundle's
        self.tls: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        )
        self.proxy = settings.proxy if settings else None
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections,
                ttl_dns_cache=300,
                enable_cleanup_closed=True,
                ssl=self.tls,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeouts.connect, connect=self.timeouts.connect
                ),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                proxy=self.proxy,  # trust_env stays off: HTTP(S)_PROXY are not read
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
        """Send and read the whole reply (at most ``max_reply_bytes``). Within an attempt that
        set :class:`~switchyard.providers.headers_deadline.HeadersWithin`, response headers
        that take longer raise ``Timeout``."""
        try:
            response = await self._send(method, url, body, headers, headers_timeout())
            try:
                data = await self.read_body(response)
            except BaseException:
                response.close()  # what is left unread is not read: the connection goes
                raise
        except TRANSPORT_ERRORS as exc:
            raise self.failed(exc) from exc
        response.release()
        return HttpReply(response.status, response.headers, data)

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
            response = await self._send(method, url, body, headers, None)
        except TRANSPORT_ERRORS as exc:
            raise self.failed(exc) from exc
        unwatch = _watch_close(response)
        try:
            yield StreamingReply(response, self)
        finally:
            unwatch()
            response.release()
            response.close()

    async def _send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        within: float | None,
    ) -> aiohttp.ClientResponse:
        """The response, once its headers are in; a redirect raises (and is never followed,
        so no credential header reaches the host it points to). Within a traced attempt the
        request carries its trace context (:mod:`~switchyard.providers.trace_headers`)."""
        send = self._get_session().request(
            method, url, data=body, headers=with_trace_headers(headers), allow_redirects=False
        )
        if within is None:
            response = await send
        else:
            try:
                async with asyncio.timeout(within):
                    response = await send
            except TimeoutError as exc:
                if isinstance(exc, aiohttp.ClientError):
                    raise
                raise self._logged(
                    Timeout(
                        f"provider {self.provider!r} sent no response headers within "
                        f"{within:g}s (timeout.first_token)",
                        provider=self.provider,
                    ),
                    "no response headers in time",
                ) from None
        if 300 <= response.status < 400:
            location = response.headers.get("location", "")
            response.close()
            raise self._logged(
                UpstreamProtocolError(
                    f"provider {self.provider!r} answered {response.status} "
                    "(a redirect, which the gateway does not follow)",
                    provider=self.provider,
                    upstream_status=response.status,
                ),
                f"redirect to {location!r}",
            )
        return response

    async def read_body(self, response: aiohttp.ClientResponse) -> bytes:
        """The whole body, at most ``max_reply_bytes`` (never read further: a larger one raises
        ``UpstreamProtocolError``); an error reply's body redacted."""
        limit = self.max_reply_bytes
        length = response.content_length
        if length is not None and length > limit:
            raise self.too_large(f"a reply of {length} bytes")
        if length is not None and "content-encoding" not in response.headers:
            data = await response.read()  # aiohttp reads exactly content-length bytes
        else:
            buffer = bytearray()
            async for piece in response.content.iter_any():
                buffer += piece
                if len(buffer) > limit:
                    raise self.too_large("a reply")
            data = bytes(buffer)
        if not 200 <= response.status < 300:
            data = self.redactor.body(data)
        return data

    def too_large(self, what: str) -> UpstreamProtocolError:
        return self._logged(
            UpstreamProtocolError(
                f"provider {self.provider!r} sent {what} over max_reply_bytes "
                f"({self.max_reply_bytes})",
                provider=self.provider,
            ),
            "reply over max_reply_bytes",
        )

    def failed(self, exc: BaseException) -> SwitchyardError:
        """The taxonomy error for a transport failure, logged once with its detail."""
        return self._logged(transport_error(exc, self.provider), detail(exc))

    def _logged(self, error: E, what: str) -> E:
        logger.warning("%s: %s", error.message, self.redactor.text(what))
        return error

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _watch_close(response: aiohttp.ClientResponse) -> Callable[[], None]:
    """Make a connection that closes mid-body fail the body's reader; returns the undo.

    aiohttp's C parser, meeting malformed framing in the middle of a body (a bad chunk size),
    closes the connection without telling the reader, which would then wait until the attempt
    timed out. The connection's ``closed`` future tells it instead."""
    connection = response.connection
    protocol = connection.protocol if connection is not None else None
    closed = protocol.closed if protocol is not None else None
    if closed is None:
        return _nothing
    content = response.content

    def on_close(_: asyncio.Future[None]) -> None:
        if not content.is_eof() and content.exception() is None:
            content.set_exception(aiohttp.ClientPayloadError("connection closed mid-reply"))

    closed.remove_done_callback(_retrieve)  # one retriever a connection, however often reused
    closed.add_done_callback(_retrieve)
    closed.add_done_callback(on_close)

    def unwatch() -> None:
        closed.remove_done_callback(on_close)

    return unwatch


def _retrieve(closed: asyncio.Future[None]) -> None:
    """Mark a connection's failure as seen (asyncio would log it as never retrieved)."""
    if not closed.cancelled():
        closed.exception()


def _nothing() -> None:
    return None


def json_headers(own: Mapping[str, str | None], configured: Mapping[str, str]) -> dict[str, str]:
    """The headers of a JSON API's requests: JSON ``content-type`` and ``accept``, the adapter's
    ``own`` (auth, API version; None: not sent), then the ``headers`` the config sets, which win
    whatever their case."""
    headers = {"content-type": "application/json", "accept": "application/json"}
    headers.update({name: value for name, value in own.items() if value is not None})
    for name, value in configured.items():
        headers[name.lower()] = value
    return headers


__all__ = [
    "ErrorMapper",
    "HttpClient",
    "HttpReply",
    "StreamingReply",
    "json_headers",
]
