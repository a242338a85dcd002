"""Cohere's error replies -> the gateway's taxonomy (pure).

Cohere answers a failed request with an HTTP status and ``{"message": "..."}``
(https://docs.cohere.com/reference/errors). The status decides, as it is what Cohere said; only
a 400 gets a look at the message, for the one case Cohere does not code separately: a prompt
over the model's context ("too many tokens: total number of tokens in the prompt cannot exceed
..." / "... size limit exceeded by N tokens"). Statuses beyond the common ones:

- 402 (payment required: the account cannot pay) is ``RateLimited`` without a retry-after, as
  OpenAI's ``insufficient_quota`` is: the quota of this deployment is gone, so the router fails
  over to another one instead of failing the request;
- 401, 403 and 498 (invalid token) refuse the gateway's own key: ``UpstreamAuthenticationError``
  (a provider-side failure: the next deployment may answer);
- 499 (request cancelled upstream; Cohere's guidance is to retry) is ``ProviderUnavailable``;
- every other 5xx (529 included) is ``ProviderUnavailable``; any other 4xx ``InvalidRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping

from switchyard.error_replies import error_body, retry_after_seconds
from switchyard.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    UpstreamAuthenticationError,
    status_error_class,
)

# Statuses Cohere adds to the shared table (see above).
_STATUS: dict[int, type[SwitchyardError] | None] = {
    402: RateLimited,
    498: UpstreamAuthenticationError,
    499: ProviderUnavailable,
}

# Phrases of Cohere's documented 400 messages for a prompt longer than the model's context.
# ("too many tokens: max tokens must be less than or equal to ..." is a bad max_tokens: plain 400.)
_CONTEXT_PHRASES = (
    "total number of tokens in the prompt",
    "size limit exceeded",
    "prompt is too long",
    "context length",
    "context window",
)


def map_error(
    status: int, headers: Mapping[str, str], body: bytes, provider: str
) -> SwitchyardError:
    """The taxonomy error a non-2xx Cohere reply means; a body that is not Cohere's JSON (an
    HTML page from a proxy, nothing at all) still maps by status."""
    message = error_message(body) or f"upstream answered HTTP {status}"
    cls = status_error_class(status, _STATUS) or InvalidRequest
    if cls is InvalidRequest and mentions_context_length(message):
        cls = ContextLengthExceeded
    # A Retry-After on a 402 would only delay the failover: the account stays unpaid.
    retry_after = None if status == 402 else retry_after_seconds(headers)
    return cls(message, provider=provider, retry_after=retry_after, upstream_status=status)


def map_stream_error(message: str | None, provider: str | None) -> SwitchyardError:
    """The error a stream reports after its 200 (``message-end`` with ``finish_reason:
    ERROR``): the generation failed upstream, so another deployment may succeed."""
    text = message or "the upstream reported an error mid-stream"
    if mentions_context_length(text):
        return ContextLengthExceeded(text, provider=provider)
    return ProviderUnavailable(text, provider=provider)


def error_message(body: bytes) -> str | None:
    """``message`` of Cohere's error JSON (``detail`` or the text itself as fallbacks)."""
    payload, text = error_body(body)
    if isinstance(payload, dict):
        for key in ("message", "detail", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
    return text


def mentions_context_length(message: str) -> bool:
    text = message.lower()
    return any(phrase in text for phrase in _CONTEXT_PHRASES)


__all__ = ["error_message", "map_error", "map_stream_error", "mentions_context_length"]
