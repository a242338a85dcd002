"""Cohere's v2 Embed API and model list <-> the canonical types (pure).

``POST /v2/embed`` (https://docs.cohere.com/reference/embed) takes ``texts`` (at most 96 a
request: the adapter sends larger inputs in batches of :data:`MAX_TEXTS`), ``model``,
``input_type`` (required by embed models v3 and newer; from the request's task, else the
provider's settings),
``embedding_types: ["float"]`` and ``output_dimension`` for the canonical ``dimensions``.
The reply's ``embeddings.float`` holds the vectors in input order; the tokens come from
``meta.tokens`` or ``meta.billed_units``. ``GET /v1/models`` answers ``{"models": [{"name",
...}], "next_page_token"}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from switchyard.errors import UpstreamProtocolError, protocol_error
from switchyard.providers.cohere import wire
from switchyard.types import EmbeddingRequest, EmbeddingResponse, EmbeddingTask, Usage

MAX_TEXTS = 96


def embed_batches(texts: list[str], size: int = MAX_TEXTS) -> list[list[str]]:
    """``texts`` in order, cut into requests Cohere accepts."""
    return [texts[start : start + size] for start in range(0, len(texts), size)]


# the canonical task as Cohere's input_type (similarity: none of Cohere's; the provider's own)
COHERE_INPUT_TYPES: dict[EmbeddingTask, str] = {
    "query": "search_query",
    "question_answering": "search_query",
    "fact_verification": "search_query",
    "code_query": "search_query",
    "document": "search_document",
    "classification": "classification",
    "clustering": "clustering",
}


def embed_request_to_cohere(
    request: EmbeddingRequest, texts: list[str], input_type: str
) -> dict[str, Any]:
    """The ``POST /v2/embed`` body for ``texts`` (one batch of ``request.input``);
    ``input_type`` from the request's task, else the provider's (``input_type``). The canonical
    ``encoding_format`` is the caller's concern (the front door encodes); floats are asked."""
    task = request.task
    body: dict[str, Any] = {
        "model": request.model,
        "texts": texts,
        "input_type": COHERE_INPUT_TYPES.get(task, input_type) if task else input_type,
        "embedding_types": ["float"],
    }
    if request.dimensions is not None:
        body["output_dimension"] = request.dimensions
    return body


def embed_response_from_cohere(
    body: Any, *, model: str, expected: int, provider: str
) -> EmbeddingResponse:
    """One ``/v2/embed`` reply; ``expected`` is how many texts were sent (a reply with another
    number of vectors is malformed)."""
    try:
        reply = wire.EmbedReply.model_validate(body)
    except ValidationError as exc:
        raise protocol_error("embed reply", exc, provider) from exc
    vectors = reply.embeddings.float_
    if vectors is None or len(vectors) != expected:
        raise UpstreamProtocolError(
            f"embed reply has {0 if vectors is None else len(vectors)} float vectors "
            f"for {expected} texts",
            provider=provider,
        )
    meta = reply.meta
    counted = (meta.tokens or meta.billed_units) if meta is not None else None
    tokens = int(counted.input_tokens or 0) if counted is not None else 0
    return EmbeddingResponse(
        model=model, provider=provider, data=vectors, usage=Usage(input_tokens=tokens)
    )


def merge_embeddings(parts: list[EmbeddingResponse]) -> EmbeddingResponse:
    """The batches' replies as one response: vectors in order, tokens summed."""
    first = parts[0]
    if len(parts) == 1:
        return first
    return EmbeddingResponse(
        model=first.model,
        provider=first.provider,
        data=[vector for part in parts for vector in part.data],
        usage=Usage(input_tokens=sum(part.usage.input_tokens for part in parts)),
    )


def models_from_cohere(body: Any, provider: str) -> tuple[list[str], str | None]:
    """The model names of one ``/v1/models`` page and the next page's token (None: last)."""
    try:
        page = wire.ModelList.model_validate(body)
    except ValidationError as exc:
        raise protocol_error("model list", exc, provider) from exc
    return [model.name for model in page.models], page.next_page_token or None


__all__ = [
    "MAX_TEXTS",
    "embed_batches",
    "embed_request_to_cohere",
    "embed_response_from_cohere",
    "merge_embeddings",
    "models_from_cohere",
]
