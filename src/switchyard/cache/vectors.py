"""The semantic cache's arithmetic: which text of a request is compared, under which exact
context, and the cosine search over a bounded set of vectors.

Only the last user message(s) (the trailing run of user turns) are compared; everything else
that makes the answer (the alias, the earlier conversation, tools, sampling parameters,
``response_format``...) must match exactly: it is hashed into the *scope* the vectors are
searched in, like an exact key. A trailing user turn with an image is never compared (its
text alone does not say what was asked).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from operator import mul
from typing import TypeAlias

from switchyard.cache.keys import CacheKey, cache_key
from switchyard.types import ChatRequest, TextPart

Vector: TypeAlias = "array[float]"  # array("f"), of unit length


def semantic_text(request: ChatRequest) -> tuple[str, ChatRequest] | None:
    """The text to embed and the request without it (its context); None: not comparable."""
    messages = request.messages
    k = 0
    while k < len(messages) and messages[-1 - k].role == "user":
        k += 1
    if k == 0:
        return None
    trailing = messages[len(messages) - k :]
    for message in trailing:
        if isinstance(message.content, list) and any(
            not isinstance(part, TextPart) for part in message.content
        ):
            return None
    text = "\n".join(message.text() for message in trailing)
    if not text.strip():
        return None
    return text, request.model_copy(update={"messages": messages[: len(messages) - k]})


def scope_of(context: ChatRequest, tenant: str | None) -> CacheKey:
    """Where the vectors of requests with this context live (``digest``: the context's)."""
    return cache_key(context, tenant)


def unit(values: Sequence[float]) -> Vector | None:
    norm = math.sqrt(sum(v * v for v in values))
    if not norm or not math.isfinite(norm):
        return None
    return array("f", (v / norm for v in values))


def best_match(
    vector: Vector, candidates: Iterable[tuple[str, Vector]], threshold: float
) -> tuple[str, float] | None:
    """The most similar candidate at or above ``threshold``: (its digest, the similarity)."""
    best: tuple[str, float] | None = None
    for digest, other in candidates:
        if len(other) != len(vector):  # another embedding model's vector
            continue
        similarity = sum(map(mul, vector, other))
        if similarity >= threshold and (best is None or similarity > best[1]):
            best = (digest, similarity)
    if best is None:
        return None
    return best[0], min(best[1], 1.0)


__all__ = ["Vector", "best_match", "scope_of", "semantic_text", "unit"]
