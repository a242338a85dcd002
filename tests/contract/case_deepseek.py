"""The ``deepseek`` preset's case. Payloads follow DeepSeek's API reference
(https://api-docs.deepseek.com/api/create-chat-completion, .../api/list-models) and its error
codes page (https://api-docs.deepseek.com/quick_start/error_codes): the API sits at the host
root, usage counts cache hits as ``prompt_cache_hit_tokens`` (no ``prompt_tokens_details``),
reasoning models stream ``reasoning_content`` beside ``content``."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai_compatible.settings import DeepSeekSettings
from switchyard.providers.registry import build_provider
from tests.contract.case import ProviderCase, WireUsage
from tests.contract.case_openai import OpenAIWire
from tests.fakes.openai_compatible_upstreams import DeepSeekUpstream
from tests.fakes.upstream import Reply

_ENVELOPE = {
    "id": "930c60df-bf64-41c9-a88e-3ec75f81e00e",
    "created": 1705651092,
    "model": "deepseek-chat",
    "system_fingerprint": "fp_8802369eaa_prod0623_fp8_kvcache",
}


def deepseek_usage(usage: WireUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_cache_hit_tokens": usage.cached,
        "prompt_cache_miss_tokens": usage.input - usage.cached,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    }


def deepseek_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {**_ENVELOPE, "object": "chat.completion.chunk", "choices": [choice]}


def deepseek_completion(message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    return {
        **_ENVELOPE,
        "object": "chat.completion",
        "choices": [choice],
        "usage": deepseek_usage(usage),
    }


class DeepSeekWire(OpenAIWire):
    """OpenAI's request shape (what the adapter sends is read the same way); DeepSeek's
    replies."""

    def text(self, text: str, usage: WireUsage) -> Reply:
        message = {"role": "assistant", "content": text}
        return Reply.json(deepseek_completion(message, "stop", usage))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [deepseek_chunk({"role": "assistant", "content": ""})]
        events += [deepseek_chunk({"content": piece}) for piece in pieces]
        events.append(deepseek_chunk({"content": ""}, "stop"))
        events.append(
            {
                **_ENVELOPE,
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": deepseek_usage(usage),
            }
        )
        return Reply.stream(events)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = {"index": 0, "id": call_id, "type": "function"}
        call["function"] = {"name": name, "arguments": arguments}
        message = {"role": "assistant", "content": "", "tool_calls": [call]}
        return Reply.json(deepseek_completion(message, "tool_calls", WireUsage()))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        start = {"index": 0, "id": call_id, "type": "function"}
        start["function"] = {"name": name, "arguments": ""}
        events = [deepseek_chunk({"role": "assistant", "content": None, "tool_calls": [start]})]
        events += [
            deepseek_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in argument_pieces
        ]
        events.append(deepseek_chunk({"content": ""}, "tool_calls"))
        return Reply.stream(events)

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        kind = "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        return Reply.json(body, status, headers=headers)

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        return Reply.stream([deepseek_chunk({"content": p}) for p in pieces], cut_after=cut_after)

    def models(self, ids: list[str]) -> Reply:
        data = [{"id": i, "object": "model", "owned_by": "deepseek"} for i in ids]
        return Reply.json({"object": "list", "data": data})


CASE = ProviderCase(
    name="deepseek",
    upstream=DeepSeekUpstream,
    provider=lambda url: build_provider(
        "deepseek", DeepSeekSettings(base_url=url, api_key="sk-test")
    ),
    model="deepseek-chat",
    wire=DeepSeekWire(),
    reference="https://api-docs.deepseek.com/api/create-chat-completion",
)
