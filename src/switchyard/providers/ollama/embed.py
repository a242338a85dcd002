"""Ollama's ``/api/embed``, ``/api/tags`` and ``/api/version`` <-> the canonical types (pure).

``POST /api/embed`` takes ``{"model", "input": [texts], "dimensions"}`` and answers
``{"model", "embeddings": [[...]], "prompt_eval_count"}`` (vectors in input order);
``GET /api/tags`` answers ``{"models": [{"name", "model", "size", ...}]}``; ``GET /api/version``
answers ``{"version": "0.12.3"}`` (``api/types.go`` and ``docs/api.md`` in Ollama's repository).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from switchyard.errors import UpstreamProtocolError, protocol_error
from switchyard.providers.ollama import wire
from switchyard.types import EmbeddingRequest, EmbeddingResponse, Usage

WireT = TypeVar("WireT", bound=BaseModel)


def embed_request_to_ollama(
    request: EmbeddingRequest, *, keep_alive: str | int | None = None
) -> dict[str, Any]:
    """The ``POST /api/embed`` body. ``encoding_format`` is the front door's concern."""
    body: dict[str, Any] = {"model": request.model, "input": request.input}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    return body


def embed_response_from_ollama(
    body: Any, *, model: str, expected: int, provider: str
) -> EmbeddingResponse:
    """``expected``: how many texts were sent (another number of vectors is malformed)."""
    reply = _parse(wire.EmbedReply, body, "embed reply", provider)
    if len(reply.embeddings) != expected:
        raise UpstreamProtocolError(
            f"embed reply has {len(reply.embeddings)} vectors for {expected} texts",
            provider=provider,
        )
    return EmbeddingResponse(
        model=reply.model or model,
        provider=provider,
        data=reply.embeddings,
        usage=Usage(input_tokens=reply.prompt_eval_count or 0),
    )


def models_from_ollama(body: Any, provider: str) -> list[str]:
    return [model.name for model in _parse(wire.ModelList, body, "model list", provider).models]


def version_from_ollama(body: Any, provider: str) -> str:
    return _parse(wire.Version, body, "version", provider).version


def _parse(model: type[WireT], body: Any, what: str, provider: str) -> WireT:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise protocol_error(what, exc, provider) from exc


__all__ = [
    "embed_request_to_ollama",
    "embed_response_from_ollama",
    "models_from_ollama",
    "version_from_ollama",
]
