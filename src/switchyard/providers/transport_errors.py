"""What a transport failure means: aiohttp's exceptions -> the taxonomy (pure).

Every way an upstream can fail below HTTP's status line maps here: a refused or reset
connection, a DNS or TLS failure, a connection closed early, malformed HTTP (non-HTTP bytes, a
bad status line or header, a wrong ``Content-Length``: aiohttp's parser errors, which it wraps
in ``ClientResponseError``), a body cut short. The message a client sees says which provider
failed and how, in words (``provider 'mirror' is unreachable (connection refused)``); the
address and the exception's own text stay out of it, for the log (see :func:`detail`).
"""

from __future__ import annotations

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError

from switchyard.errors import ProviderUnavailable, SwitchyardError, Timeout, UpstreamProtocolError

# Everything aiohttp raises for a failed exchange: its ClientError family, its parser's own
# errors, ValueError (a URL or header value it refuses; InvalidURL is both) and TimeoutError
# (its connect timeout). An attempt's own time limit is not among them: inside the call it is a
# cancellation, which passes through.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    aiohttp.ClientError,
    HttpProcessingError,
    ValueError,
    TimeoutError,
)

# Most specific first: the first class ``exc`` is an instance of decides.
_UNREACHABLE: tuple[tuple[type[Exception], str], ...] = (
    (aiohttp.ClientConnectorDNSError, "host name not resolved"),
    (
        aiohttp.ClientConnectorCertificateError,
        "its TLS certificate is not trusted: a private authority goes in its ca_bundle",
    ),
    (aiohttp.ClientSSLError, "TLS handshake failed"),
)


def transport_error(exc: BaseException, provider: str) -> SwitchyardError:
    """The taxonomy error for ``exc``, one of :data:`TRANSPORT_ERRORS` (or an aiohttp timeout)."""
    where = f"provider {provider!r}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        # aiohttp's connect timeout covers the wait for a free pooled connection too
        return Timeout(
            f"{where} gave no connection within timeout.connect (connect, or a full pool)",
            provider=provider,
        )
    if isinstance(exc, TimeoutError):
        return Timeout(f"{where} stopped answering", provider=provider)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ProviderUnavailable(f"{where} is unreachable ({_why(exc)})", provider=provider)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ProviderUnavailable(
            f"{where} closed the connection without a complete reply", provider=provider
        )
    if isinstance(exc, aiohttp.ClientOSError):
        return ProviderUnavailable(f"{where} dropped the connection", provider=provider)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ProviderUnavailable(
            f"{where} broke off its reply (the body was cut short or malformed)",
            provider=provider,
        )
    if isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        return UpstreamProtocolError(f"{where} answered with malformed HTTP", provider=provider)
    if isinstance(exc, ValueError):
        return UpstreamProtocolError(
            f"{where} could not be called (a URL or header was refused)", provider=provider
        )
    return ProviderUnavailable(f"{where} failed at the transport level", provider=provider)


def detail(exc: BaseException) -> str:
    """What the log gets: the exception's class and text (redact it before logging)."""
    text = " ".join(str(exc).split())  # aiohttp's parser errors span several lines
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _why(exc: aiohttp.ClientConnectorError) -> str:
    for cls, why in _UNREACHABLE:
        if isinstance(exc, cls):
            return why
    if isinstance(exc.os_error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc.os_error, TimeoutError):
        return "connect timed out"
    return "cannot connect"


__all__ = ["TRANSPORT_ERRORS", "detail", "transport_error"]
