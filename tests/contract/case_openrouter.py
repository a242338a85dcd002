"""The ``openrouter`` preset's case. Payloads follow OpenRouter's API reference
(https://openrouter.ai/docs/api/reference/overview: responses carry ``provider`` and
``native_finish_reason``, usage carries ``cost``), its streaming page (usage on the last chunk)
and its errors page (https://openrouter.ai/docs/api/reference/errors-and-debugging:
``{"error": {"code": <HTTP status>, "message", "metadata"}}``, ``Retry-After`` on 429)."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai_compatible.settings import OpenRouterSettings
from switchyard.providers.registry import build_provider
from tests.contract.case import ProviderCase, WireUsage, retry_after_headers
from tests.contract.case_openai import OpenAIWire, function_call
from tests.fakes.openai_compatible_upstreams import OpenRouterUpstream
from tests.fakes.upstream import Reply

_ENVELOPE = {
    "id": "gen-1735317796-nA3rdK1dzSTdWYuDhtWx",
    "provider": "OpenAI",
    "model": "openai/gpt-4o-mini",
    "created": 1735317796,
}


class OpenRouterWire(OpenAIWire):
    """OpenAI's request shape and streams; OpenRouter's replies and errors."""

    envelope = _ENVELOPE
    text_message_extras = {"refusal": None, "reasoning": None}

    def usage_body(self, usage: WireUsage) -> dict[str, Any]:
        return {
            "prompt_tokens": usage.input,
            "completion_tokens": usage.output,
            "total_tokens": usage.input + usage.output,
            "cost": 0.00012,
            "prompt_tokens_details": {"cached_tokens": usage.cached},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
        }

    def completion(self, message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
        return {
            **self.envelope,
            "object": "chat.completion",
            "choices": [_choice("message", message, finish)],
            "usage": self.usage_body(usage),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choices = [_choice("delta", delta, finish)]
        return {**self.envelope, "object": "chat.completion.chunk", "choices": choices}

    def content_delta(self, piece: str) -> dict[str, Any]:
        return {"role": "assistant", "content": piece}

    def finish_delta(self, finish: str) -> dict[str, Any]:
        # a text stream ends on an empty assistant delta, a tool-call stream on an empty one
        return self.content_delta("") if finish == "stop" else {}

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = function_call(call_id, name, arguments)
        message = {"role": "assistant", "content": "", "refusal": None, "tool_calls": [call]}
        return Reply.json(self.completion(message, "tool_calls", WireUsage()))

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        body = {"error": {"code": status, "message": message, "metadata": {"provider_name": None}}}
        return Reply.json(body, status, headers=retry_after_headers(retry_after))

    def models(self, ids: list[str]) -> Reply:
        data = [{"id": i, "name": i, "created": 1735317796, "context_length": 128000} for i in ids]
        return Reply.json({"data": data})


def _choice(key: str, value: dict[str, Any], finish: str | None) -> dict[str, Any]:
    """A choice of a completion (``message``) or of a chunk (``delta``)."""
    return {
        "index": 0,
        key: value,
        "finish_reason": finish,
        "native_finish_reason": finish,
        "logprobs": None,
    }


CASE = ProviderCase(
    name="openrouter",
    upstream=OpenRouterUpstream,
    provider=lambda url: build_provider(
        "openrouter", OpenRouterSettings(base_url=url, api_key="sk-or-test")
    ),
    model="openai/gpt-4o-mini",
    wire=OpenRouterWire(),
    reference="https://openrouter.ai/docs/api/reference/overview",
)
