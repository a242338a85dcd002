"""Virtual key secrets: ``sk-sy-`` + a 12-hex-digit id + 43 characters of secret (256 bits).

The id finds the key's row; the SHA-256 of the whole key proves it. A key carries 256 random
bits, so a fast hash is enough (nothing to brute-force, unlike a password) and costs one
microsecond per cache miss. The secret is never stored.
"""

from __future__ import annotations

import base64
import hashlib
import os

PREFIX = "sk-sy-"
ID_HEX = 12
SECRET_CHARS = 43  # 32 bytes, base64url without padding
KEY_LENGTH = len(PREFIX) + ID_HEX + SECRET_CHARS
_HEX = frozenset(b"0123456789abcdef")


def new_key() -> tuple[str, str]:
    """A fresh ``(id, key)``."""
    key_id = os.urandom(ID_HEX // 2).hex()
    secret = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    return key_id, f"{PREFIX}{key_id}{secret}"


def key_hash(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()


_PREFIX_BYTES = PREFIX.encode()


def looks_like_key(token: bytes) -> bool:
    return token.startswith(_PREFIX_BYTES)


def key_id_of(token: bytes) -> str | None:
    """The id inside a well-formed key, else None."""
    if len(token) != KEY_LENGTH or not looks_like_key(token):
        return None
    ident = token[len(PREFIX) : len(PREFIX) + ID_HEX]
    return ident.decode() if _HEX.issuperset(ident) else None


__all__ = ["KEY_LENGTH", "PREFIX", "key_hash", "key_id_of", "looks_like_key", "new_key"]
