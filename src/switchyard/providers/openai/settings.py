"""Settings of the ``openai`` adapter (OpenAI and any OpenAI-compatible ``base_url``)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from switchyard.providers.base import ProviderSettings

OPENAI_HOST = "api.openai.com"


class OpenAISettings(ProviderSettings):
    type: Literal["openai"] = "openai"
    base_url: str | None = "https://api.openai.com/v1"
    organization: str | None = None
    project: str | None = None
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] | None = Field(
        default=None,
        description=(
            "the request field that carries the output-token limit; by default "
            "max_completion_tokens for api.openai.com (its reasoning models reject max_tokens) "
            "and max_tokens for other OpenAI-compatible servers (older ones know only that)"
        ),
    )

    wire_api: Literal["chat_completions", "responses"] = Field(
        default="chat_completions",
        description=(
            "the upstream API: chat_completions ({base_url}/chat/completions) or responses "
            "({base_url}/responses, OpenAI's Responses API: the Responses door's requests pass "
            "through with nothing lost)"
        ),
    )

    def resolved_max_tokens_field(self) -> Literal["max_tokens", "max_completion_tokens"]:
        if self.max_tokens_field is not None:
            return self.max_tokens_field
        host = urlsplit(self.base_url or "").hostname or ""
        return "max_completion_tokens" if host == OPENAI_HOST else "max_tokens"


__all__ = ["OpenAISettings"]
