"""OpenAI's chat-completions wire format <-> the canonical types: the whole OpenAI codec.

One codec for both directions and both users: the OpenAI-compatible front door reads callers'
requests with :func:`request_from_openai` and writes replies with :func:`response_to_openai` /
:func:`chunk_to_openai`; the ``openai`` adapter writes upstream requests with
:func:`request_to_openai` and reads replies with :func:`response_from_openai` /
:func:`chunks_from_openai`. Everything is pure: dicts in, dicts or models out.

The parts live by what they do: reading callers' requests (:mod:`.openai_chat_request`),
reading upstream replies (:mod:`.openai_chat_reply`), rendering canonical objects as OpenAI
JSON (:mod:`.openai_chat_render`), embeddings (:mod:`.openai_embeddings`) and errors
(:mod:`.openai_errors`); this module re-exports them all.
"""

from __future__ import annotations

from switchyard.formats.openai_chat_render import (
    MaxTokensField,
    chunk_to_openai,
    chunk_to_openai_payloads,
    request_to_openai,
    response_to_openai,
)
from switchyard.formats.openai_chat_reply import (
    chunk_from_openai,
    chunks_from_openai,
    response_from_openai,
)
from switchyard.formats.openai_chat_request import request_from_openai
from switchyard.formats.openai_embeddings import (
    EncodingFormat,
    embedding_request_from_openai,
    embedding_request_to_openai,
    embedding_response_from_openai,
    embedding_response_to_openai,
)
from switchyard.formats.openai_errors import (
    error_to_openai,
    map_openai_error,
    map_openai_error_payload,
)

__all__ = [
    "EncodingFormat",
    "MaxTokensField",
    "chunk_from_openai",
    "chunk_to_openai",
    "chunk_to_openai_payloads",
    "chunks_from_openai",
    "embedding_request_from_openai",
    "embedding_request_to_openai",
    "embedding_response_from_openai",
    "embedding_response_to_openai",
    "error_to_openai",
    "map_openai_error",
    "map_openai_error_payload",
    "request_from_openai",
    "request_to_openai",
    "response_from_openai",
    "response_to_openai",
]
