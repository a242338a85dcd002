"""The ``azure_openai`` preset's case, against a fake resource that serves deployments only
(``/openai/deployments/{name}/...?api-version=...`` with the ``api-key`` header). Payloads
follow Azure OpenAI's data-plane inference reference
(https://learn.microsoft.com/azure/ai-foundry/openai/reference) and the recorded Azure traffic
in ``tests/conformance/openai-cassettes/azure-chat-basic.yaml``: OpenAI's shapes plus
``prompt_filter_results`` / ``content_filter_results``, and a stream that opens with a chunk
carrying only the prompt filter results."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai_compatible.settings import AzureOpenAISettings
from switchyard.providers.registry import build_provider
from tests.contract.case import ProviderCase, WireUsage, retry_after_headers
from tests.contract.case_openai import OpenAIWire
from tests.fakes.openai_compatible_upstreams import AzureOpenAIUpstream
from tests.fakes.upstream import Reply

_FILTERS = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}
_ENVELOPE = {
    "id": "chatcmpl-CM9n9OhFOl4lSSFwarLEIMnPrNWSP",
    "created": 1759396891,
    "model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_efad92c60b",
}
_PROMPT_FILTERS = [{"prompt_index": 0, "content_filter_results": _FILTERS}]


# Azure's first stream event: the prompt's filter results, no choices, no id.
_PROMPT_FILTER_CHUNK = {
    "choices": [],
    "created": 0,
    "id": "",
    "model": "",
    "object": "",
    "prompt_filter_results": _PROMPT_FILTERS,
}


class AzureOpenAIWire(OpenAIWire):
    """OpenAI's request shape and streams; Azure's replies and error bodies."""

    envelope = _ENVELOPE
    stream_opening = (_PROMPT_FILTER_CHUNK,)
    text_message_extras: dict[str, Any] = {}

    def usage_body(self, usage: WireUsage) -> dict[str, Any]:
        return {
            "completion_tokens": usage.output,
            "completion_tokens_details": {
                "accepted_prediction_tokens": 0,
                "audio_tokens": 0,
                "reasoning_tokens": usage.reasoning,
                "rejected_prediction_tokens": 0,
            },
            "prompt_tokens": usage.input,
            "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": usage.cached},
            "total_tokens": usage.input + usage.output,
        }

    def completion(self, message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
        choice = {
            "content_filter_results": _FILTERS,
            "finish_reason": finish,
            "index": 0,
            "logprobs": None,
            "message": {"annotations": [], "refusal": None, **message},
        }
        return {
            **self.envelope,
            "object": "chat.completion",
            "choices": [choice],
            "prompt_filter_results": _PROMPT_FILTERS,
            "usage": self.usage_body(usage),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {
            "content_filter_results": {} if finish is None and not delta else _FILTERS,
            "delta": delta,
            "finish_reason": finish,
            "index": 0,
            "logprobs": None,
        }
        return {**self.envelope, "object": "chat.completion.chunk", "choices": [choice]}

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        code = "InternalServerError" if status >= 500 else str(status)
        body = {"error": {"code": code, "message": message}}
        return Reply.json(body, status, headers=retry_after_headers(retry_after))


CASE = ProviderCase(
    name="azure_openai",
    upstream=AzureOpenAIUpstream,
    provider=lambda url: build_provider(
        "azure", AzureOpenAISettings(endpoint=url, api_key="azure-key")
    ),
    model="gpt-4o-mini",
    embedding_model="text-embedding-3-small",
    wire=AzureOpenAIWire(),
    reference="https://learn.microsoft.com/azure/ai-foundry/openai/reference",
)
