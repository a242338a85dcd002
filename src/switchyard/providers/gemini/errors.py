"""Gemini error replies -> the gateway's taxonomy. Pure.

Gemini answers errors as ``{"error": {"code": 429, "message": ..., "status":
"RESOURCE_EXHAUSTED", "details": [...]}}`` (ai.google.dev/gemini-api/docs/troubleshooting;
Google's AIP-193 error model). The HTTP status decides first: it is what the upstream said.
The ``status`` name decides when the HTTP status does not (an error event inside a 200 stream,
an unusual status code). Then, in order of trust:

- ``details[].reason == "API_KEY_INVALID"`` (an ``ErrorInfo``) -> ``UpstreamAuthenticationError``:
  Gemini refuses a bad key with 400 INVALID_ARGUMENT. It is the gateway's key that was refused
  (as with 401 UNAUTHENTICATED and 403 PERMISSION_DENIED): a provider-side failure that fails
  over, never the caller's 401;
- a 400 whose message says the input is over the model's token limit ("The input token count
  (...) exceeds the maximum number of tokens allowed (...)") -> ``ContextLengthExceeded``;
- ``retry_after`` from ``Retry-After`` when sent, else from the ``RetryInfo`` detail's
  ``retryDelay`` (``"34s"``), which is where Gemini puts it on 429s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from switchyard.error_replies import error_body, retry_after_seconds
from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    status_error_class,
)

# Gemini's departures from the shared status table: a 504 is its DEADLINE_EXCEEDED, and a 422
# (not a status Google's APIs answer with) is left to the body's ``status`` name.
_BY_HTTP_STATUS: dict[int, type[SwitchyardError] | None] = {504: Timeout, 422: None}

# google.rpc.Code names, as Gemini writes them in ``error.status``.
_BY_STATUS_NAME: dict[str, type[SwitchyardError]] = {
    "INVALID_ARGUMENT": InvalidRequest,
    "FAILED_PRECONDITION": InvalidRequest,
    "OUT_OF_RANGE": InvalidRequest,
    "UNAUTHENTICATED": UpstreamAuthenticationError,
    "PERMISSION_DENIED": UpstreamAuthenticationError,
    "NOT_FOUND": ModelNotFound,
    "RESOURCE_EXHAUSTED": RateLimited,
    "DEADLINE_EXCEEDED": Timeout,
    "CANCELLED": ProviderUnavailable,
    "ABORTED": ProviderUnavailable,
    "INTERNAL": ProviderUnavailable,
    "UNAVAILABLE": ProviderUnavailable,
    "UNKNOWN": ProviderUnavailable,
}

_CONTEXT_PHRASES = (
    "exceeds the maximum number of tokens",
    "input token count",
    "context length",
    "too many tokens",
)
_DELAY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)s\s*$")


def map_gemini_error(
    status: int, headers: Mapping[str, str], body: bytes, provider: str
) -> SwitchyardError:
    """The taxonomy error a non-2xx Gemini reply means (a body that is not JSON, such as a
    proxy's HTML page, still maps by status)."""
    info = _ErrorInfo.parse(body)
    cls = status_error_class(status, _BY_HTTP_STATUS) or info.by_status_name() or InvalidRequest
    return _build(cls, info, provider, status, _retry_after(headers, info))


def map_gemini_error_payload(payload: Mapping[str, Any], provider: str) -> SwitchyardError:
    """The taxonomy error of an ``{"error": {...}}`` payload that came without an error status
    (an event inside a streamed 200 reply). Unknown kinds are upstream failures."""
    info = _ErrorInfo.from_payload(payload)
    cls = info.by_status_name()
    if cls is None and info.code is not None and info.code >= 400:
        cls = status_error_class(info.code, _BY_HTTP_STATUS) or InvalidRequest
    return _build(cls or ProviderUnavailable, info, provider, info.code, info.retry_delay())


def _build(
    cls: type[SwitchyardError],
    info: _ErrorInfo,
    provider: str,
    status: int | None,
    retry_after: float | None,
) -> SwitchyardError:
    if cls is InvalidRequest:
        if "API_KEY_INVALID" in info.reasons:
            cls = UpstreamAuthenticationError
        elif info.mentions_context_length():
            cls = ContextLengthExceeded
    message = info.message or f"Gemini answered HTTP {status}"
    return cls(message, provider=provider, retry_after=retry_after, upstream_status=status)


def _retry_after(headers: Mapping[str, str], info: _ErrorInfo) -> float | None:
    from_header = retry_after_seconds(headers)
    return from_header if from_header is not None else info.retry_delay()


class _ErrorInfo:
    """What a Gemini error body says; tolerant of missing or odd fields."""

    __slots__ = ("code", "delays", "message", "reasons", "status")

    def __init__(
        self,
        message: str | None = None,
        status: str | None = None,
        code: int | None = None,
        reasons: frozenset[str] = frozenset(),
        delays: tuple[str, ...] = (),
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.reasons = reasons
        self.delays = delays

    @classmethod
    def parse(cls, body: bytes) -> _ErrorInfo:
        payload, text = error_body(body)
        if text is not None:
            return cls(message=text)
        if isinstance(payload, list) and payload and isinstance(payload[0], dict):
            payload = payload[0]  # a streamed request's error can come as a JSON array
        return cls.from_payload(payload) if isinstance(payload, dict) else cls()

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> _ErrorInfo:
        inner = payload.get("error", payload)
        if isinstance(inner, str):
            return cls(message=inner)
        if not isinstance(inner, Mapping):
            return cls()
        message, status, code = inner.get("message"), inner.get("status"), inner.get("code")
        reasons: set[str] = set()
        delays: list[str] = []
        details = inner.get("details")
        for detail in details if isinstance(details, list) else ():
            if not isinstance(detail, Mapping):
                continue
            if isinstance(detail.get("reason"), str):
                reasons.add(detail["reason"])
            if isinstance(detail.get("retryDelay"), str):
                delays.append(detail["retryDelay"])
        return cls(
            message=message if isinstance(message, str) else None,
            status=status if isinstance(status, str) else None,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            reasons=frozenset(reasons),
            delays=tuple(delays),
        )

    def by_status_name(self) -> type[SwitchyardError] | None:
        return _BY_STATUS_NAME.get(self.status or "")

    def mentions_context_length(self) -> bool:
        text = (self.message or "").lower()
        return any(phrase in text for phrase in _CONTEXT_PHRASES)

    def retry_delay(self) -> float | None:
        for delay in self.delays:
            match = _DELAY.match(delay)
            if match:
                return float(match.group(1))
        return None


__all__ = ["map_gemini_error", "map_gemini_error_payload"]
