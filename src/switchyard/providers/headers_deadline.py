"""How long a call that is not streamed may wait for its reply's response headers.

A deployment's ``timeout.first_token`` means, for a call that is not streamed, the time to the
response headers. The attempt runner knows the deployment's timeouts; the HTTP client is where
headers arrive. Between them is this context variable: :func:`headers_within` sets it around
one attempt's call, :func:`headers_timeout` reads it where :class:`~switchyard.providers.http.
HttpClient` waits for headers. Each attempt runs in its own task context (hedges too), so
concurrent attempts never see each other's limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_WITHIN: ContextVar[float | None] = ContextVar("switchyard_headers_within", default=None)


@contextmanager
def headers_within(seconds: float | None) -> Iterator[None]:
    """Upstream calls in this block that are not streamed must see response headers within
    ``seconds`` (None: only the attempt's own ``total`` bounds them)."""
    token = _WITHIN.set(seconds)
    try:
        yield
    finally:
        _WITHIN.reset(token)


def headers_timeout() -> float | None:
    """The limit :func:`headers_within` set for the running call, if any."""
    return _WITHIN.get()


__all__ = ["headers_timeout", "headers_within"]
