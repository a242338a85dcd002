"""How long a call that is not streamed may wait for its reply's response headers.

A deployment's ``timeout.first_token`` means, for a call that is not streamed, the time to the
response headers. The attempt runner knows the deployment's timeouts; the HTTP client is where
headers arrive. Between them is this context variable: :class:`HeadersWithin` sets it around
one attempt's call, :func:`headers_timeout` reads it where :class:`~switchyard.providers.http.
HttpClient` waits for headers. Each attempt runs in its own task context (hedges too), so
concurrent attempts never see each other's limit.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_WITHIN: ContextVar[float | None] = ContextVar("switchyard_headers_within", default=None)


class HeadersWithin:
    """Upstream calls in this block that are not streamed must see response headers within
    ``seconds`` (None: only the attempt's own ``total`` bounds them). A class rather than a
    generator: it runs once per attempt, on the hot path."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        self._token = _WITHIN.set(self._seconds)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _WITHIN.reset(self._token)


def headers_timeout() -> float | None:
    """The limit :class:`HeadersWithin` set for the running call, if any."""
    return _WITHIN.get()


__all__ = ["HeadersWithin", "headers_timeout"]
