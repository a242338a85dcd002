"""The ``openai`` adapter: OpenAI and every OpenAI-compatible server behind one ``base_url``.

The I/O and its error handling are :class:`ChatCompletionsProvider`'s; this adapter adds
OpenAI's settings: the bearer key, ``OpenAI-Organization`` / ``OpenAI-Project`` and the field
that carries the output-token limit (see :class:`OpenAISettings`). Services with known quirks
have presets of their own (:mod:`switchyard.providers.openai_compatible`).

With ``wire_api: responses`` chat goes to ``{base_url}/responses`` in OpenAI's Responses API
instead (:mod:`.responses`: the Responses door's requests pass through with nothing lost);
embeddings and the model list stay where they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cached_property
from typing import Any, ClassVar

from switchyard.formats.json_body import parse_json
from switchyard.formats.openai_chat import MaxTokensField, request_to_openai
from switchyard.providers.base import Capabilities, chunks_from_response
from switchyard.providers.http import json_headers
from switchyard.providers.http_api import bearer
from switchyard.providers.openai.chat_completions import ChatCompletionsProvider
from switchyard.providers.openai.responses import (
    ResponsesStreamTranslator,
    request_to_responses,
    response_from_responses,
)
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.types import ChatChunk, ChatRequest, ChatResponse


class OpenAIProvider(ChatCompletionsProvider[OpenAISettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True,
        vision=True,
        documents=True,
        json_mode=True,
        embeddings=True,
        list_models=True,
    )

    default_base_url = "https://api.openai.com/v1"

    @cached_property
    def _max_tokens_field(self) -> MaxTokensField:
        return self.settings.resolved_max_tokens_field()

    def _headers(self) -> dict[str, str]:
        settings = self.settings
        own = {
            **bearer(settings.api_key_value()),
            "openai-organization": settings.organization or None,
            "openai-project": settings.project or None,
        }
        return json_headers(own, settings.headers)

    def _chat_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return request_to_openai(request, stream=stream, max_tokens_field=self._max_tokens_field)

    @cached_property
    def _responses_url(self) -> str | None:
        """``{base_url}/responses`` with ``wire_api: responses``, else None."""
        if self.settings.wire_api != "responses":
            return None
        return self.api.base_url + "/responses"

    def takes_document_urls(self) -> bool:
        """With ``wire_api: responses`` (its ``input_file`` has a ``file_url``)."""
        return self._responses_url is not None

    async def chat(self, request: ChatRequest) -> ChatResponse:
        url = self._responses_url
        if url is None:
            return await super().chat(request)
        payload = await self.api.request_json(
            "POST", url, request_to_responses(request, stream=False)
        )
        return response_from_responses(payload, self.name)

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        url = self._responses_url
        if url is None:
            return super().stream(request)
        return self.api.stream(
            url,
            request_to_responses(request, stream=True),
            ResponsesStreamTranslator(self.name),
            whole=lambda body: chunks_from_response(
                response_from_responses(parse_json(body, self.name), self.name)
            ),
        )


__all__ = ["OpenAIProvider"]
