"""The ``openai`` adapter's case. Payloads follow OpenAI's Chat Completions reference
(https://platform.openai.com/docs/api-reference/chat/create and .../chat-streaming), the
Embeddings and Models references, and the error codes page; their shapes match the recorded
traffic in ``shared/conformance/openai-cassettes``."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai.adapter import OpenAIProvider
from switchyard.providers.openai.settings import OpenAISettings
from tests.contract.case import ProviderCase, WireUsage
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import RecordedRequest, Reply

_ENVELOPE = {"id": "chatcmpl-c1", "created": 1755137933, "model": "gpt-4o-mini-2024-07-18"}


def _usage(usage: WireUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": {"cached_tokens": usage.cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning, "audio_tokens": 0},
    }


def _completion(message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
    return {
        **_ENVELOPE,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": _usage(usage),
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {**_ENVELOPE, "object": "chat.completion.chunk", "choices": [choice]}


class OpenAIWire:
    def text(self, text: str, usage: WireUsage) -> Reply:
        message = {"role": "assistant", "content": text, "refusal": None}
        return Reply.json(_completion(message, "stop", usage))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [_chunk({"role": "assistant", "content": ""})]
        events += [_chunk({"content": piece}) for piece in pieces]
        events.append(_chunk({}, "stop"))
        events.append(
            {**_ENVELOPE, "object": "chat.completion.chunk", "choices": [], "usage": _usage(usage)}
        )
        return Reply.stream(events)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
        return Reply.json(_completion(message, "tool_calls", WireUsage()))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        start = {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        events = [_chunk({"role": "assistant", "content": None, "tool_calls": [start]})]
        events += [
            _chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in argument_pieces
        ]
        events.append(_chunk({}, "tool_calls"))
        return Reply.stream(events)

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return Reply.error(status, message, type=kind, headers=headers)

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        return Reply.stream([_chunk({"content": piece}) for piece in pieces], cut_after=cut_after)

    def embeddings(self, vectors: list[list[float]]) -> Reply:
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        return Reply.json(
            {
                "object": "list",
                "data": data,
                "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": 2, "total_tokens": 2},
            }
        )

    def models(self, ids: list[str]) -> Reply:
        data = [{"id": i, "object": "model", "created": 0, "owned_by": "system"} for i in ids]
        return Reply.json({"object": "list", "data": data})

    def sent_text(self, request: RecordedRequest) -> str:
        parts = []
        for message in request.json["messages"]:
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts += [p.get("text", "") for p in content if p.get("type") == "text"]
        return "\n".join(parts)

    def sent_tool_names(self, request: RecordedRequest) -> list[str]:
        return [tool["function"]["name"] for tool in request.json.get("tools", [])]

    def sent_tool_result(self, request: RecordedRequest) -> tuple[str, str] | None:
        for message in request.json["messages"]:
            if message["role"] == "tool":
                return message["tool_call_id"], message["content"]
        return None

    def sent_json_mode(self, request: RecordedRequest) -> bool:
        return request.json.get("response_format") == {"type": "json_object"}

    def sent_image(self, request: RecordedRequest) -> bool:
        return any(
            part.get("type") == "image_url"
            for message in request.json["messages"]
            if isinstance(message.get("content"), list)
            for part in message["content"]
        )


CASE = ProviderCase(
    name="openai",
    upstream=OpenAIUpstream,
    provider=lambda url: OpenAIProvider("openai", OpenAISettings(base_url=url, api_key="sk-test")),
    model="gpt-4o-mini",
    embedding_model="text-embedding-3-small",
    wire=OpenAIWire(),
    reference="https://platform.openai.com/docs/api-reference/chat",
)
