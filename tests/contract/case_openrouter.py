"""The ``openrouter`` preset's case. Payloads follow OpenRouter's API reference
(https://openrouter.ai/docs/api/reference/overview: responses carry ``provider`` and
``native_finish_reason``, usage carries ``cost``), its streaming page (usage on the last chunk)
and its errors page (https://openrouter.ai/docs/api/reference/errors-and-debugging:
``{"error": {"code": <HTTP status>, "message", "metadata"}}``, ``Retry-After`` on 429)."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai_compatible.settings import OpenRouterSettings
from switchyard.providers.registry import build_provider
from tests.contract.case import ProviderCase, WireUsage
from tests.contract.case_openai import OpenAIWire
from tests.fakes.openai_compatible_upstreams import OpenRouterUpstream
from tests.fakes.upstream import Reply

_ENVELOPE = {
    "id": "gen-1735317796-nA3rdK1dzSTdWYuDhtWx",
    "provider": "OpenAI",
    "model": "openai/gpt-4o-mini",
    "created": 1735317796,
}


def openrouter_usage(usage: WireUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "cost": 0.00012,
        "prompt_tokens_details": {"cached_tokens": usage.cached},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    }


def openrouter_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {
        "index": 0,
        "delta": delta,
        "finish_reason": finish,
        "native_finish_reason": finish,
        "logprobs": None,
    }
    return {**_ENVELOPE, "object": "chat.completion.chunk", "choices": [choice]}


def openrouter_completion(message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
    choice = {
        "index": 0,
        "message": message,
        "finish_reason": finish,
        "native_finish_reason": finish,
        "logprobs": None,
    }
    return {
        **_ENVELOPE,
        "object": "chat.completion",
        "choices": [choice],
        "usage": openrouter_usage(usage),
    }


class OpenRouterWire(OpenAIWire):
    """OpenAI's request shape; OpenRouter's replies and errors."""

    def text(self, text: str, usage: WireUsage) -> Reply:
        message = {"role": "assistant", "content": text, "refusal": None, "reasoning": None}
        return Reply.json(openrouter_completion(message, "stop", usage))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [openrouter_chunk({"role": "assistant", "content": ""})]
        events += [openrouter_chunk({"role": "assistant", "content": p}) for p in pieces]
        events.append(openrouter_chunk({"role": "assistant", "content": ""}, "stop"))
        events.append(
            {
                **_ENVELOPE,
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": openrouter_usage(usage),
            }
        )
        return Reply.stream(events)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        message = {"role": "assistant", "content": "", "refusal": None, "tool_calls": [call]}
        return Reply.json(openrouter_completion(message, "tool_calls", WireUsage()))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        start = {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        events = [openrouter_chunk({"role": "assistant", "content": None, "tool_calls": [start]})]
        events += [
            openrouter_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in argument_pieces
        ]
        events.append(openrouter_chunk({}, "tool_calls"))
        return Reply.stream(events)

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        body = {"error": {"code": status, "message": message, "metadata": {"provider_name": None}}}
        return Reply.json(body, status, headers=headers)

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        events = [openrouter_chunk({"role": "assistant", "content": p}) for p in pieces]
        return Reply.stream(events, cut_after=cut_after)

    def models(self, ids: list[str]) -> Reply:
        data = [{"id": i, "name": i, "created": 1735317796, "context_length": 128000} for i in ids]
        return Reply.json({"data": data})


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
