"""The ``deepseek`` preset's case. Payloads follow DeepSeek's API reference
(https://api-docs.deepseek.com/api/create-chat-completion, .../api/list-models) and its error
codes page (https://api-docs.deepseek.com/quick_start/error_codes): the API sits at the host
root, usage counts cache hits as ``prompt_cache_hit_tokens`` (no ``prompt_tokens_details``),
reasoning models stream ``reasoning_content`` beside ``content``."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai_compatible.settings import DeepSeekSettings
from switchyard.providers.registry import build_provider
from tests.contract.case import ProviderCase, WireUsage, retry_after_headers
from tests.contract.case_openai import OpenAIWire, function_call
from tests.fakes.openai_compatible_upstreams import DeepSeekUpstream
from tests.fakes.upstream import Reply

_ENVELOPE = {
    "id": "930c60df-bf64-41c9-a88e-3ec75f81e00e",
    "created": 1705651092,
    "model": "deepseek-chat",
    "system_fingerprint": "fp_8802369eaa_prod0623_fp8_kvcache",
}


class DeepSeekWire(OpenAIWire):
    """OpenAI's request shape (what the adapter sends is read the same way) and streams;
    DeepSeek's replies."""

    envelope = _ENVELOPE
    text_message_extras: dict[str, Any] = {}

    def usage_body(self, usage: WireUsage) -> dict[str, Any]:
        return {
            "prompt_tokens": usage.input,
            "completion_tokens": usage.output,
            "total_tokens": usage.input + usage.output,
            "prompt_cache_hit_tokens": usage.cached,
            "prompt_cache_miss_tokens": usage.input - usage.cached,
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
        }

    def finish_delta(self, finish: str) -> dict[str, Any]:
        return {"content": ""}

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = {"index": 0, **function_call(call_id, name, arguments)}
        message = {"role": "assistant", "content": "", "tool_calls": [call]}
        return Reply.json(self.completion(message, "tool_calls", WireUsage()))

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        return Reply.json(body, status, headers=retry_after_headers(retry_after))

    def models(self, ids: list[str]) -> Reply:
        data = [{"id": i, "object": "model", "owned_by": "deepseek"} for i in ids]
        return Reply.json({"object": "list", "data": data})


_WIRE = DeepSeekWire()


def deepseek_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return _WIRE.chunk(delta, finish)


def deepseek_completion(message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
    return _WIRE.completion(message, finish, usage)


CASE = ProviderCase(
    name="deepseek",
    upstream=DeepSeekUpstream,
    provider=lambda url: build_provider(
        "deepseek", DeepSeekSettings(base_url=url, api_key="sk-test")
    ),
    model="deepseek-chat",
    wire=_WIRE,
    reference="https://api-docs.deepseek.com/api/create-chat-completion",
)
