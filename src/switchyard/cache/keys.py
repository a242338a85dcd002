"""What a cached answer is filed under: the caller's tenant, the model asked for, and a hash of
everything in the request that can change the answer.

Left out of the hash, because they do not change what the model says: ``user``, ``metadata``,
the request id, ``stream`` and ``stream_options`` (a plain request may be answered from a
streamed entry and the reverse), and the gateway's own controls (``cache``, ``timeout``,
``fallbacks``, ``tags``, ``prefer``). Everything else is in, unknown provider parameters
(``extra``: ``logit_bias``, ``reasoning_effort``, ...) included: a parameter the gateway does
not understand might change the answer, so it must not be shared across values.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from switchyard.types import ChatRequest

# the request fields that make the answer (ChatRequest field names)
ANSWER_FIELDS: set[str] = {
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "extra",
    "format_fields",
    "reasoning",
}
_NOT_ANSWER_EXTRA = frozenset({"stream_options"})


class CacheKey(NamedTuple):
    """``tenant`` None is the namespace of the admin and of anonymous callers (a server
    without keys, the library's default caller); a tenant's namespace is its own."""

    tenant: str | None
    alias: str  # what the caller asked for: an alias or a provider/model name
    digest: str  # sha256 hex of the answer-making fields


def cache_key(request: ChatRequest, tenant: str | None) -> CacheKey:
    """The fields are serialized in their declared order (objects inside them, such as a
    tool's parameters, in the order the client sent them: a reordered object is another key,
    a miss, never a wrong answer)."""
    extra = request.extra
    if extra is not None and not _NOT_ANSWER_EXTRA.isdisjoint(extra):
        kept = {k: v for k, v in extra.items() if k not in _NOT_ANSWER_EXTRA}
        request = request.model_copy(update={"extra": kept or None})
    blob = request.__pydantic_serializer__.to_json(
        request, include=ANSWER_FIELDS, exclude_none=True
    )
    return CacheKey(tenant, request.model, hashlib.sha256(blob).hexdigest())


__all__ = ["ANSWER_FIELDS", "CacheKey", "cache_key"]
