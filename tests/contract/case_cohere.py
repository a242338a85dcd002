"""The ``cohere`` adapter's case. Payloads follow Cohere's v2 API reference: Chat
(https://docs.cohere.com/reference/chat: ``message.content[]``, ``tool_calls``, ``tool_plan``,
``finish_reason``, ``usage.tokens`` / ``billed_units`` / ``cached_tokens``), Chat with streaming
(https://docs.cohere.com/reference/chat-stream and the streaming and tool-use streaming guides,
https://docs.cohere.com/v2/docs/streaming, .../v2/docs/tool-use-streaming: ``message-start``,
``content-*``, ``tool-plan-delta``, ``tool-call-*``, ``message-end``), Embed
(https://docs.cohere.com/reference/embed), List Models
(https://docs.cohere.com/reference/list-models) and Errors
(https://docs.cohere.com/reference/errors: ``{"message": ...}``); the field names were checked
against the types of Cohere's Python SDK (cohere-ai/cohere-python, ``src/cohere/types``)."""

from __future__ import annotations

import json

from switchyard.providers.cohere.adapter import CohereProvider
from switchyard.providers.cohere.settings import CohereSettings
from tests.contract.case import (
    ProviderCase,
    WireUsage,
    openai_sent_text,
    openai_sent_tool_names,
    openai_tool_message,
    retry_after_headers,
)
from tests.fakes import cohere_upstream as co
from tests.fakes.cohere_upstream import CohereUpstream, RecordedRequest, Reply


def _usage(usage: WireUsage) -> dict[str, object]:
    return co.usage(usage.input, usage.output, cached=usage.cached)


class CohereWire:
    def text(self, text: str, usage: WireUsage) -> Reply:
        return Reply.json(co.text_reply(text, used=_usage(usage)))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [
            co.message_start(),
            *co.text_events(pieces),
            co.message_end("COMPLETE", _usage(usage)),
        ]
        return Reply.stream(events, done=False)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        message = {
            "tool_plan": "I will look up the weather in Paris.",
            "tool_calls": [co.tool_call(call_id, name, arguments)],
        }
        return Reply.json(co.chat_reply(message, "TOOL_CALL"))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        events = [
            co.message_start(),
            *co.tool_plan_events(["I will", " look up the weather."]),
            *co.tool_call_events(0, call_id, name, argument_pieces),
            co.message_end("TOOL_CALL"),
        ]
        return Reply.stream(events, done=False)

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        return co.error_reply(status, message, retry_after_headers(retry_after))

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        events = [
            co.event("content-delta", index=0, delta={"message": {"content": {"text": p}}})
            for p in pieces
        ]
        return Reply.stream(events, done=False, cut_after=cut_after)

    def embeddings(self, vectors: list[list[float]]) -> Reply:
        return Reply.json(co.embed_reply(vectors, [f"text {i}" for i in range(len(vectors))]))

    def models(self, ids: list[str]) -> Reply:
        return Reply.json(co.models_reply(ids))

    def sent_text(self, request: RecordedRequest) -> str:
        return openai_sent_text(request)

    def sent_tool_names(self, request: RecordedRequest) -> list[str]:
        return openai_sent_tool_names(request)

    def sent_tool_result(self, request: RecordedRequest) -> tuple[str, str] | None:
        message = openai_tool_message(request)
        if message is None:
            return None
        content = message["content"]
        return message["tool_call_id"], content if isinstance(content, str) else json.dumps(content)

    def sent_json_mode(self, request: RecordedRequest) -> bool:
        return request.json.get("response_format", {}).get("type") == "json_object"

    def sent_image(self, request: RecordedRequest) -> bool:
        return any(
            part.get("type") == "image_url" and part["image_url"]["url"].startswith("data:")
            for message in request.json["messages"]
            if message["role"] == "user" and isinstance(message.get("content"), list)
            for part in message["content"]
        )

    def sent_document(self, request: RecordedRequest) -> bool:
        return False  # Cohere's chat takes no documents (not declared: never asked)


CASE = ProviderCase(
    name="cohere",
    upstream=CohereUpstream,
    provider=lambda url: CohereProvider("cohere", CohereSettings(base_url=url, api_key="co-test")),
    model="command-a-03-2025",
    embedding_model="embed-v4.0",
    wire=CohereWire(),
    reference="https://docs.cohere.com/reference/chat",
)
