"""The ``openai`` adapter's case. Payloads follow OpenAI's Chat Completions reference
(https://platform.openai.com/docs/api-reference/chat/create and .../chat-streaming), the
Embeddings and Models references, and the error codes page; their shapes match the recorded
traffic in ``tests/conformance/openai-cassettes``."""

from __future__ import annotations

from typing import Any

from switchyard.providers.openai.adapter import OpenAIProvider
from switchyard.providers.openai.settings import OpenAISettings
from tests.contract.case import (
    ProviderCase,
    WireUsage,
    openai_sent_text,
    openai_sent_tool_names,
    openai_sent_tool_result,
    retry_after_headers,
)
from tests.fakes.documents import PDF_BASE64
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import RecordedRequest, Reply

_ENVELOPE = {"id": "chatcmpl-c1", "created": 1755137933, "model": "gpt-4o-mini-2024-07-18"}


def function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """One entry of a message's ``tool_calls``."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


class OpenAIWire:
    """OpenAI's Chat Completions wire.

    The OpenAI-compatible cases (``azure_openai``, ``deepseek``, ``openrouter``) subclass it:
    what the adapter sends is read the same way and their streams are the same sequences of
    chunks, so each overrides only the reply shapes below where its API differs.
    """

    envelope: dict[str, Any] = _ENVELOPE  # the id, created, model, ... of every reply
    # events a stream opens with, before its first choice (Azure's prompt filter results)
    stream_opening: tuple[dict[str, Any], ...] = ()
    # what a text reply's message carries beside its role and content
    text_message_extras: dict[str, Any] = {"refusal": None}

    # -- reply shapes -------------------------------------------------------------------------

    def usage_body(self, usage: WireUsage) -> dict[str, Any]:
        return {
            "prompt_tokens": usage.input,
            "completion_tokens": usage.output,
            "total_tokens": usage.input + usage.output,
            "prompt_tokens_details": {"cached_tokens": usage.cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning, "audio_tokens": 0},
        }

    def completion(self, message: dict[str, Any], finish: str, usage: WireUsage) -> dict[str, Any]:
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return {
            **self.envelope,
            "object": "chat.completion",
            "choices": [choice],
            "usage": self.usage_body(usage),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**self.envelope, "object": "chat.completion.chunk", "choices": [choice]}

    def usage_chunk(self, usage: WireUsage) -> dict[str, Any]:
        """The last event of a stream asked for its usage: no choices."""
        return {
            **self.envelope,
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": self.usage_body(usage),
        }

    def content_delta(self, piece: str) -> dict[str, Any]:
        return {"content": piece}

    def finish_delta(self, finish: str) -> dict[str, Any]:
        """The delta of the chunk that carries the finish reason."""
        return {}

    # -- the suite's scenarios ----------------------------------------------------------------

    def text(self, text: str, usage: WireUsage) -> Reply:
        message = {"role": "assistant", "content": text, **self.text_message_extras}
        return Reply.json(self.completion(message, "stop", usage))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [*self.stream_opening, self.chunk({"role": "assistant", "content": ""})]
        events += [self.chunk(self.content_delta(piece)) for piece in pieces]
        events.append(self.chunk(self.finish_delta("stop"), "stop"))
        events.append(self.usage_chunk(usage))
        return Reply.stream(events)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = function_call(call_id, name, arguments)
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        message.update(self.text_message_extras)
        return Reply.json(self.completion(message, "tool_calls", WireUsage()))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        start = {"index": 0, **function_call(call_id, name, "")}
        opening = self.chunk({"role": "assistant", "content": None, "tool_calls": [start]})
        events = [*self.stream_opening, opening]
        events += [
            self.chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in argument_pieces
        ]
        events.append(self.chunk(self.finish_delta("tool_calls"), "tool_calls"))
        return Reply.stream(events)

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return Reply.error(status, message, type=kind, headers=retry_after_headers(retry_after))

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        events = [self.chunk(self.content_delta(piece)) for piece in pieces]
        return Reply.stream(events, cut_after=cut_after)

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

    # -- what the adapter sent ----------------------------------------------------------------

    def sent_text(self, request: RecordedRequest) -> str:
        return openai_sent_text(request)

    def sent_tool_names(self, request: RecordedRequest) -> list[str]:
        return openai_sent_tool_names(request)

    def sent_tool_result(self, request: RecordedRequest) -> tuple[str, str] | None:
        return openai_sent_tool_result(request)

    def sent_json_mode(self, request: RecordedRequest) -> bool:
        return request.json.get("response_format") == {"type": "json_object"}

    def sent_image(self, request: RecordedRequest) -> bool:
        return any(
            part.get("type") == "image_url"
            for message in request.json["messages"]
            if isinstance(message.get("content"), list)
            for part in message["content"]
        )

    def sent_document(self, request: RecordedRequest) -> bool:
        return any(
            part.get("type") == "file" and part["file"]["file_data"].endswith(PDF_BASE64)
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
