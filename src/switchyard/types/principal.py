"""Who is asking: the identity every request carries through the Gateway."""

from __future__ import annotations

import os
from typing import NamedTuple

from switchyard.types.grants import Grant


class TraceCarrier(NamedTuple):
    """The W3C trace context a caller's request carried (``traceparent`` and ``tracestate``
    headers, as sent; None: absent), handed from the door to the Gateway. Set only when the
    Gateway traces; its presence also says the request came in over the network."""

    traceparent: str | None = None
    tracestate: str | None = None


def new_request_id() -> str:
    """128 random bits as 32 hex digits (a uuid4's randomness, without building a UUID)."""
    return os.urandom(16).hex()


class Principal(NamedTuple):
    """The caller of one request, as the front door authenticated it.

    ``tenant``, ``key_id`` and ``user`` are None for the anonymous admin: the library's default
    caller, and the server's when it runs without keys (or a request presents the master key).
    ``tags`` are free labels for accounting (never used for authorization). ``grant`` is what a
    virtual key may use (None: everything, the admin's). A named tuple:
    immutable, and built on every request, so cheap to build.
    """

    request_id: str
    tenant: str | None = None
    key_id: str | None = None
    user: str | None = None
    tags: tuple[str, ...] = ()
    admin: bool = False
    grant: Grant | None = None
    client: str | None = None  # the caller's address (server.trusted_proxies), for the logs
    trace: TraceCarrier | None = None  # the caller's trace context (when tracing is on)

    def may_use(self, model: str) -> bool:
        return self.grant is None or self.grant.allows(model)

    @classmethod
    def anonymous_admin(cls, request_id: str | None = None) -> Principal:
        return cls(request_id=request_id or new_request_id(), admin=True)


__all__ = ["Principal", "TraceCarrier", "new_request_id"]
