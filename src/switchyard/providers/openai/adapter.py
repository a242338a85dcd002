"""The ``openai`` adapter: OpenAI and every OpenAI-compatible server behind one ``base_url``.

The I/O and its error handling are :class:`ChatCompletionsProvider`'s; this adapter adds
OpenAI's settings: the bearer key, ``OpenAI-Organization`` / ``OpenAI-Project`` and the field
that carries the output-token limit (see :class:`OpenAISettings`). Services with known quirks
have presets of their own (:mod:`switchyard.providers.openai_compatible`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from switchyard.formats.openai_chat import MaxTokensField, request_to_openai
from switchyard.providers.base import Capabilities
from switchyard.providers.http import json_headers
from switchyard.providers.http_api import bearer
from switchyard.providers.openai.chat_completions import ChatCompletionsProvider
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.types import ChatRequest


class OpenAIProvider(ChatCompletionsProvider[OpenAISettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
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


__all__ = ["OpenAIProvider"]
