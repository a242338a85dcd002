"""The ``anthropic`` adapter's case. Payloads follow Anthropic's API reference: the Messages
API and its ``Message`` object (https://platform.claude.com/docs/en/api/messages), the
streaming events with ``input_json_delta`` and ``message_delta`` usage
(https://platform.claude.com/docs/en/build-with-claude/streaming), the error shape and statuses
incl. 529 ``overloaded_error`` and 429 with ``retry-after``
(https://platform.claude.com/docs/en/api/errors), prompt-caching usage fields
(https://platform.claude.com/docs/en/build-with-claude/prompt-caching) and the models list
(https://platform.claude.com/docs/en/api/models-list). See ``tests/fakes/anthropic_upstream.py``
for the builders."""

from __future__ import annotations

from typing import Any

from switchyard.providers.anthropic.adapter import AnthropicProvider
from switchyard.providers.anthropic.json_mode import json_instruction
from switchyard.providers.anthropic.settings import AnthropicSettings
from switchyard.types import ResponseFormat
from tests.contract.case import ProviderCase, WireUsage, retry_after_headers
from tests.fakes.anthropic_upstream import (
    ERROR_TYPES,
    AnthropicUpstream,
    block_start,
    block_stop,
    content_text,
    error_reply,
    json_delta,
    message,
    message_delta,
    message_start,
    message_stop,
    models_page,
    ping,
    raw_message_reply,
    stream_reply,
    system_text,
    text_block,
    text_delta,
    tool_use_block,
    usage,
)
from tests.fakes.documents import PDF_BASE64
from tests.fakes.upstream import RecordedRequest, Reply

_JSON_INSTRUCTION = json_instruction(ResponseFormat(type="json_object")) or ""


def _usage(used: WireUsage) -> dict[str, Any]:
    # Anthropic's input_tokens leaves out the tokens read from the cache
    return usage(used.input - used.cached, used.output, cache_read=used.cached)


class AnthropicWire:
    def text(self, text: str, usage: WireUsage) -> Reply:
        return Reply.json(message([text_block(text)], usage=_usage(usage)))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [
            message_start(input_tokens=usage.input - usage.cached, cache_read=usage.cached),
            block_start(0, text_block("")),
            ping(),
            *(text_delta(0, piece) for piece in pieces),
            block_stop(0),
            message_delta("end_turn", usage.output),
            message_stop(),
        ]
        return stream_reply(events)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        body = message(
            [text_block("Let me check."), tool_use_block(call_id, name, {})],
            stop_reason="tool_use",
        )
        return raw_message_reply(body, {1: arguments})

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        events = [
            message_start(),
            block_start(0, tool_use_block(call_id, name, {})),
            json_delta(0, ""),
            *(json_delta(0, piece) for piece in argument_pieces),
            block_stop(0),
            message_delta("tool_use", 31),
            message_stop(),
        ]
        return stream_reply(events)

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return error_reply(status, kind, message, headers=retry_after_headers(retry_after))

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        events = [
            message_start(),
            block_start(0, text_block("")),
            *(text_delta(0, piece) for piece in pieces),
            block_stop(0),
            message_delta("end_turn", 9),
            message_stop(),
        ]
        return stream_reply(events, cut_after=cut_after)

    def embeddings(self, vectors: list[list[float]]) -> Reply:
        raise AssertionError("Anthropic has no embeddings API")

    def models(self, ids: list[str]) -> Reply:
        return Reply.json(models_page(ids))

    def sent_text(self, request: RecordedRequest) -> str:
        texts = [system_text(request)]
        texts += [content_text(m["content"]) for m in request.json["messages"]]
        return "\n".join(texts)

    def sent_tool_names(self, request: RecordedRequest) -> list[str]:
        return [tool["name"] for tool in request.json.get("tools", [])]

    def sent_tool_result(self, request: RecordedRequest) -> tuple[str, str] | None:
        for entry in request.json["messages"]:
            content = entry["content"]
            if entry["role"] != "user" or not isinstance(content, list):
                continue
            for block in content:
                if block["type"] == "tool_result":
                    return block["tool_use_id"], content_text(block.get("content"))
        return None

    def sent_json_mode(self, request: RecordedRequest) -> bool:
        return _JSON_INSTRUCTION in system_text(request)

    def sent_image(self, request: RecordedRequest) -> bool:
        return any(
            block.get("type") == "image" and block["source"]["type"] == "base64"
            for entry in request.json["messages"]
            if isinstance(entry["content"], list)
            for block in entry["content"]
        )

    def sent_document(self, request: RecordedRequest) -> bool:
        return any(
            block.get("type") == "document" and block["source"].get("data") == PDF_BASE64
            for entry in request.json["messages"]
            if isinstance(entry["content"], list)
            for block in entry["content"]
        )


CASE = ProviderCase(
    name="anthropic",
    upstream=AnthropicUpstream,
    provider=lambda url: AnthropicProvider(
        "anthropic", AnthropicSettings(base_url=url, api_key="sk-ant-test")
    ),
    model="claude-sonnet-4-5",
    wire=AnthropicWire(),
    reference="https://platform.claude.com/docs/en/api/messages",
)
