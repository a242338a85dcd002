"""Who is at the other end: the peer's address, or, when the peer is one of
``server.trusted_proxies``, the address its ``X-Forwarded-For`` reports.

``X-Forwarded-For`` is a list each proxy appends its own peer to, so only its right end is
written by proxies we trust; anything to the left of the first untrusted address may be
whatever the client typed. The client is therefore the rightmost address that is not a trusted
proxy (every address trusted: the leftmost). A value that is not an IP address ends the walk
(the last address read stands), so nothing a caller invents reaches a log line. A peer that is
not trusted is the client whatever the header says. The address is used in the request's log
line (``client=``); it never decides authentication.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 32  # X-Forwarded-For entries read at most, from the right


class ClientAddress:
    def __init__(self, trusted: Iterable[Network]) -> None:
        self.trusted: tuple[Network, ...] = tuple(trusted)

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def resolve(self, peer: str | None, forwarded_for: Sequence[bytes]) -> str | None:
        """The client's address, from the peer's and the ``X-Forwarded-For`` header values
        (raw, in the order they came)."""
        if peer is None or not self.trusted or not forwarded_for or not self.is_trusted(peer):
            return peer
        hops = b",".join(forwarded_for).decode("latin-1").split(",")
        client = peer
        for hop in reversed(hops[-MAX_HOPS:]):
            address = _address(hop)
            if address is None:
                return client
            client = address
            if not self.is_trusted(address):
                return client
        return client


def _address(hop: str) -> str | None:
    """An entry's IP address (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``, ``::1``), or None."""
    text = hop.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


__all__ = ["MAX_HOPS", "ClientAddress"]
