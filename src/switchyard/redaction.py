"""Credentials out of upstream text (pure).

An upstream's error message, a proxy's page or an exception's text may echo what the gateway
sent it: its ``Authorization`` header, its key in a query string. :class:`Redactor` replaces a
provider's own configured secrets (exactly) and anything shaped like a credential with
``[redacted]`` before such text reaches a client, a log or ``/api/v1/providers``:

- ``Bearer <token>`` / ``Basic <token>``;
- ``sk-...`` keys (OpenAI's, Anthropic's ``sk-ant-...``, Switchyard's own ``sk-sy-...``) and
  Google's ``AIza...`` keys;
- a long token after a credential-like name: ``key=...``, ``api_key: ...``,
  ``"x-api-key": "..."``, ``token=...``, ``secret=...``, ``password=...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[redacted]"

# A configured value shorter than this is not looked for verbatim: "none" or "k" would mangle
# ordinary words, and a key that short is not worth hiding.
MIN_SECRET_LENGTH = 8

_TOKEN = r"[A-Za-z0-9._~+/=-]"
_PATTERNS = re.compile(
    rf"(?P<scheme>\b(?:bearer|basic)\s+){_TOKEN}{{8,}}"
    rf"|\bsk-[A-Za-z0-9_-]{{8,}}"
    rf"|\bAIza[A-Za-z0-9_-]{{20,}}"
    rf"|(?P<name>(?:api[_-]?key|key|token|secret|password|access[_-]token)['\"]?\s*[=:]\s*['\"]?)"
    rf"{_TOKEN}{{16,}}",
    re.IGNORECASE,
)


def _keep_name(match: re.Match[str]) -> str:
    return (match.group("scheme") or match.group("name") or "") + MASK


class Redactor:
    """Redacts ``secrets`` (the provider's configured values) and credential-shaped tokens."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a key inside a longer configured value goes with it.
        unique = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        self._secrets = tuple(sorted(unique, key=len, reverse=True))

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _PATTERNS.sub(_keep_name, text)

    def body(self, body: bytes) -> bytes:
        """An error reply's bytes, redacted (decoded as UTF-8, invalid bytes replaced)."""
        return self.text(body.decode("utf-8", "replace")).encode() if body else body


def redact(text: str) -> str:
    """``text`` without credential-shaped tokens (no configured secrets known)."""
    return _PATTERNS.sub(_keep_name, text)


__all__ = ["MASK", "MIN_SECRET_LENGTH", "Redactor", "redact"]
