"""The ``azure_openai`` preset's case, against a fake resource that serves deployments only
(``/openai/deployments/{name}/...?api-version=...`` with the ``api-key`` header). Payloads
follow Azure OpenAI's data-plane inference reference
(https://learn.microsoft.com/azure/ai-foundry/openai/reference) and the recorded Azure traffic
in ``shared/conformance/openai-cassettes/azure-chat-basic.yaml``: OpenAI's shapes plus
``prompt_filter_results`` / ``content_filter_results``, and a stream that opens with a chunk
carrying only the prompt filter results."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai_compatible.settings import AzureOpenAISettings
from switchyard.providers.registry import build_provider
from tests.contract.case import ProviderCase, WireUsage
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


def azure_usage(usage: WireUsage) -> dict[str, Any]:
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


def azure_completion(message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
    choice = {
        "content_filter_results": _FILTERS,
        "finish_reason": finish,
        "index": 0,
        "logprobs": None,
        "message": {"annotations": [], "refusal": None, **message},
    }
    return {
        **_ENVELOPE,
        "object": "chat.completion",
        "choices": [choice],
        "prompt_filter_results": _PROMPT_FILTERS,
        "usage": azure_usage(usage),
    }


def azure_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {
        "content_filter_results": {} if finish is None and not delta else _FILTERS,
        "delta": delta,
        "finish_reason": finish,
        "index": 0,
        "logprobs": None,
    }
    return {**_ENVELOPE, "object": "chat.completion.chunk", "choices": [choice]}


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
    """OpenAI's request shape; Azure's replies and error bodies."""

    def text(self, text: str, usage: WireUsage) -> Reply:
        message = {"role": "assistant", "content": text}
        return Reply.json(azure_completion(message, "stop", usage))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [_PROMPT_FILTER_CHUNK, azure_chunk({"role": "assistant", "content": ""})]
        events += [azure_chunk({"content": piece}) for piece in pieces]
        events.append(azure_chunk({}, "stop"))
        events.append(
            {
                **_ENVELOPE,
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": azure_usage(usage),
            }
        )
        return Reply.stream(events)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        return Reply.json(azure_completion(message, "tool_calls", WireUsage()))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        start = {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        events = [
            _PROMPT_FILTER_CHUNK,
            azure_chunk({"role": "assistant", "content": None, "tool_calls": [start]}),
        ]
        events += [
            azure_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in argument_pieces
        ]
        events.append(azure_chunk({}, "tool_calls"))
        return Reply.stream(events)

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        code = "InternalServerError" if status >= 500 else str(status)
        return Reply.json({"error": {"code": code, "message": message}}, status, headers=headers)

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        return Reply.stream([azure_chunk({"content": p}) for p in pieces], cut_after=cut_after)

    def embeddings(self, vectors: list[list[float]]) -> Reply:
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        usage = {"prompt_tokens": 2, "total_tokens": 2}
        return Reply.json(
            {"object": "list", "data": data, "model": "text-embedding-3-small", "usage": usage}
        )


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
