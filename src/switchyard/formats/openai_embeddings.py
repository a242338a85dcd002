"""OpenAI's embeddings wire format (``POST /embeddings``) <-> the canonical types.

``base64`` embeddings are the vector's little-endian float32 bytes, base64-encoded, as OpenAI
sends them (and as its SDK asks for by default); both directions handle either encoding.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchyard.errors import InvalidRequest, UpstreamProtocolError, protocol_error
from switchyard.types import EmbeddingRequest, EmbeddingResponse, EmbeddingTask, Usage

EncodingFormat = Literal["float", "base64"]

_REQUEST_KEYS = frozenset({"model", "input", "dimensions", "encoding_format", "user", "input_type"})
# ``input_type``, an extension (Cohere's names, as LiteLLM passes them): the canonical task
INPUT_TYPES: dict[str, EmbeddingTask] = {
    "search_query": "query",
    "search_document": "document",
    "classification": "classification",
    "clustering": "clustering",
}
_LITTLE_ENDIAN = sys.byteorder == "little"


def embedding_request_from_openai(body: dict[str, Any]) -> EmbeddingRequest:
    """An OpenAI ``POST /embeddings`` body as a canonical request.

    ``input`` is a string or an array of strings; token arrays are refused (``param="input"``)
    because not every provider can embed token ids. Unknown keys are refused as OpenAI does.
    """
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", param=None)
    for key in body:
        if key not in _REQUEST_KEYS:
            raise _invalid(key, "is not a recognized embeddings parameter")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _invalid("model", "is required and must be a non-empty string")
    raw = body.get("input")
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        texts = raw
    elif isinstance(raw, list) and raw and all(isinstance(item, int | list) for item in raw):
        raise _invalid("input", "token arrays are not supported; send text")
    else:
        raise _invalid("input", "must be a string or a non-empty array of strings")
    dimensions = body.get("dimensions")
    if dimensions is not None and (
        not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1
    ):
        raise _invalid("dimensions", "must be an integer of at least 1")
    encoding = body.get("encoding_format")
    if encoding is None:
        encoding = "float"
    elif encoding not in ("float", "base64"):
        raise _invalid("encoding_format", "must be 'float' or 'base64'")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise _invalid("user", "must be a string")
    input_type = body.get("input_type")
    if input_type is not None and input_type not in INPUT_TYPES:
        raise _invalid("input_type", f"must be one of {', '.join(INPUT_TYPES)}")
    return EmbeddingRequest(
        model=model,
        input=texts,
        dimensions=dimensions,
        encoding_format=encoding,
        user=user,
        task=None if input_type is None else INPUT_TYPES[input_type],
    )


def embedding_request_to_openai(request: EmbeddingRequest) -> dict[str, Any]:
    """The upstream ``POST /embeddings`` body. ``encoding_format`` is sent only when it is not
    the default ``float``, for servers that do not know the field."""
    body: dict[str, Any] = {"model": request.model, "input": request.input}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.encoding_format != "float":
        body["encoding_format"] = request.encoding_format
    if request.user is not None:
        body["user"] = request.user
    return body


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Embedding(_Wire):
    index: int = 0
    embedding: list[float] | str


class _Usage(_Wire):
    prompt_tokens: int | None = None


class _Response(_Wire):
    model: str = ""
    data: list[_Embedding] = Field(min_length=1)
    usage: _Usage | None = None


def embedding_response_from_openai(body: dict[str, Any], provider: str) -> EmbeddingResponse:
    """An upstream embeddings reply (float or base64 vectors) as a canonical response, vectors
    in ``index`` order; malformed -> UpstreamProtocolError."""
    try:
        wire = _Response.model_validate(body)
    except ValidationError as exc:
        raise protocol_error("embeddings reply", exc, provider) from exc
    items = sorted(wire.data, key=lambda item: item.index)
    data = [
        item.embedding if isinstance(item.embedding, list) else _decode(item.embedding, provider)
        for item in items
    ]
    tokens = (wire.usage.prompt_tokens or 0) if wire.usage is not None else 0
    return EmbeddingResponse(
        model=wire.model, provider=provider, data=data, usage=Usage(input_tokens=tokens)
    )


def embedding_response_to_openai(
    response: EmbeddingResponse, encoding_format: EncodingFormat = "float"
) -> dict[str, Any]:
    """A canonical response as OpenAI's ``CreateEmbeddingResponse`` JSON."""
    tokens = response.usage.input_tokens
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": vector if encoding_format == "float" else _encode(vector),
            }
            for index, vector in enumerate(response.data)
        ],
        "model": response.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _encode(vector: list[float]) -> str:
    floats = array("f", vector)
    if not _LITTLE_ENDIAN:
        floats.byteswap()
    return base64.b64encode(floats.tobytes()).decode("ascii")


def _decode(text: str, provider: str) -> list[float]:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UpstreamProtocolError("embedding is not valid base64", provider=provider) from exc
    if len(raw) % 4:
        raise UpstreamProtocolError(
            "base64 embedding is not a whole number of float32 values", provider=provider
        )
    floats = array("f")
    floats.frombytes(raw)
    if not _LITTLE_ENDIAN:
        floats.byteswap()
    return floats.tolist()


def _invalid(param: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid '{param}': {problem}.", param=param)


__all__ = [
    "EncodingFormat",
    "embedding_request_from_openai",
    "embedding_request_to_openai",
    "embedding_response_from_openai",
    "embedding_response_to_openai",
]
