"""The ``ollama`` adapter's case. Payloads follow Ollama's API reference, ``docs/api.md`` in
https://github.com/ollama/ollama ("Generate a chat completion": the streamed and non-streamed
replies, "Streaming with tools", "with images", "Structured outputs"; ``/api/embed``,
``/api/tags``), ``docs/api/errors.mdx`` (``{"error": ...}`` bodies and mid-stream error lines),
``docs/api/usage.mdx`` (``prompt_eval_count`` / ``eval_count`` on the done line) and the types
in ``api/types.go`` (``ToolCall.id``, sent since Ollama 0.12.10; ``Message.tool_call_id``).

Ollama's wire differs from the suite's canonical scenarios in two ways, both honest here:
tool-call arguments are a JSON *object*, so the scripted calls carry the parsed object and the
adapter serialises it (``json.dumps`` defaults, which is how the suite writes its argument
text), and a streamed call arrives whole in one line, never in pieces; and Ollama reports no
cached-token count, so the case declares ``reports_cached_tokens=False``.
"""

from __future__ import annotations

import json

from switchyard.providers.ollama.adapter import OllamaProvider
from switchyard.providers.ollama.settings import OllamaSettings
from tests.contract.case import (
    ProviderCase,
    WireUsage,
    openai_sent_tool_names,
    openai_sent_tool_result,
    retry_after_headers,
)
from tests.fakes import ollama_upstream as ol
from tests.fakes.ollama_upstream import OllamaUpstream, RecordedRequest, Reply


class OllamaWire:
    def text(self, text: str, usage: WireUsage) -> Reply:
        # Ollama's prompt_eval_count is the whole prompt, cached tokens included.
        return Reply.json(
            ol.done_line({"content": text}, prompt_tokens=usage.input, output_tokens=usage.output)
        )

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        lines = [ol.line({"content": piece}) for piece in pieces]
        done = ol.done_line(prompt_tokens=usage.input, output_tokens=usage.output)
        return Reply.lines([*lines, done])

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        call = ol.tool_call(name, json.loads(arguments), call_id=call_id)
        return Reply.json(ol.done_line({"tool_calls": [call]}))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        call = ol.tool_call(name, json.loads("".join(argument_pieces)), call_id=call_id)
        return Reply.lines([ol.line({"tool_calls": [call]}), ol.done_line()])

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        return ol.error_reply(status, message, retry_after_headers(retry_after))

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        return Reply.lines([ol.line({"content": piece}) for piece in pieces], cut_after=cut_after)

    def embeddings(self, vectors: list[list[float]]) -> Reply:
        return Reply.json(ol.embed_reply(vectors))

    def models(self, ids: list[str]) -> Reply:
        return Reply.json(ol.tags_reply(ids))

    def sent_text(self, request: RecordedRequest) -> str:
        return "\n".join(message["content"] for message in request.json["messages"])

    def sent_tool_names(self, request: RecordedRequest) -> list[str]:
        return openai_sent_tool_names(request)

    def sent_tool_result(self, request: RecordedRequest) -> tuple[str, str] | None:
        return openai_sent_tool_result(request)

    def sent_json_mode(self, request: RecordedRequest) -> bool:
        return request.json.get("format") == "json"

    def sent_image(self, request: RecordedRequest) -> bool:
        return any(message.get("images") for message in request.json["messages"])

    def sent_document(self, request: RecordedRequest) -> bool:
        return False  # Ollama's chat takes no documents (not declared: never asked)


CASE = ProviderCase(
    name="ollama",
    upstream=OllamaUpstream,
    provider=lambda url: OllamaProvider("ollama", OllamaSettings(base_url=url)),
    model="llama3.2",
    embedding_model="all-minilm",
    wire=OllamaWire(),
    reference="https://github.com/ollama/ollama/blob/main/docs/api.md",
    reports_cached_tokens=False,
)
