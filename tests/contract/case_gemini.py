"""The ``gemini`` adapter's case. Payloads follow Google's Gemini API reference:
ai.google.dev/api/generate-content (``generateContent``, ``streamGenerateContent?alt=sse``:
``GenerateContentResponse`` with ``candidates``, ``finishReason``, ``usageMetadata``),
ai.google.dev/gemini-api/docs/function-calling (``functionCall`` / ``functionResponse``,
``functionDeclarations``), ai.google.dev/api/embeddings (``batchEmbedContents``),
ai.google.dev/api/models and the error model of ai.google.dev/gemini-api/docs/troubleshooting
(``{"error": {code, message, status, details}}``, ``RetryInfo.retryDelay`` on 429).

Gemini differs from the suite's OpenAI-shaped scenarios in two places, both faithful here:
- A function call arrives whole, with ``args`` as a JSON object. ``tool_call_stream`` sends the
  object the argument pieces spell in one event; the adapter re-serialises it with
  ``arguments_json`` (``json.dumps`` defaults), which gives back the suite's exact bytes
  because the suite's arguments are written in that style.
- Requests carry no call ids (Gemini correlates results by function name and order), so
  ``sent_tool_result`` reads the function name and maps it back to the id this wire scripted.
"""

from __future__ import annotations

import json
from typing import Any

from switchyard.providers.gemini.adapter import GeminiProvider
from switchyard.providers.gemini.settings import GeminiSettings
from tests.contract.case import ProviderCase, WireUsage
from tests.fakes.documents import PDF_BASE64
from tests.fakes.gemini_upstream import (
    GeminiUpstream,
    error_reply,
    function_call,
    response,
    sse,
    usage_metadata,
)
from tests.fakes.upstream import RecordedRequest, Reply


def _usage(usage: WireUsage) -> dict[str, Any]:
    return usage_metadata(
        usage.input,
        usage.output - usage.reasoning,
        cached=usage.cached,
        thoughts=usage.reasoning,
    )


def _parts(request: RecordedRequest) -> list[dict[str, Any]]:
    body = request.json
    parts = list((body.get("systemInstruction") or {}).get("parts", []))
    for content in body.get("contents", []):
        parts.extend(content.get("parts", []))
    return parts


class GeminiWire:
    def __init__(self) -> None:
        self._scripted_ids: dict[str, str] = {}  # function name -> the call id scripted

    def text(self, text: str, usage: WireUsage) -> Reply:
        return Reply.json(response([{"text": text}], "STOP", _usage(usage)))

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply:
        events = [response([{"text": piece}], None) for piece in pieces[:-1]]
        events.append(response([{"text": pieces[-1]}], "STOP", _usage(usage)))
        return sse(events)

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply:
        self._scripted_ids[name] = call_id
        call = function_call(name, json.loads(arguments), call_id)
        return Reply.json(response([call], "STOP", _usage(WireUsage())))

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply:
        self._scripted_ids[name] = call_id
        call = function_call(name, json.loads("".join(argument_pieces)), call_id)
        return sse([response([call], None), response([], "STOP", _usage(WireUsage()))])

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply:
        if status == 413:  # Google's front end answers an oversized body with an HTML page
            html = b"<html><title>Error 413 (Request Entity Too Large)!!1</title></html>"
            return Reply.raw_bytes(html, 413, content_type="text/html; charset=UTF-8")
        details = None
        if retry_after is not None:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{retry_after:g}s",
                }
            ]
        status_name = "UNAVAILABLE" if status == 529 else None
        return error_reply(status, message, status_name, details=details)

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        return sse([response([{"text": piece}], None) for piece in pieces], cut_after=cut_after)

    def embeddings(self, vectors: list[list[float]]) -> Reply:
        return Reply.json({"embeddings": [{"values": vector} for vector in vectors]})

    def models(self, ids: list[str]) -> Reply:
        return Reply.json(
            {
                "models": [
                    {
                        "name": f"models/{i}",
                        "displayName": i,
                        "supportedGenerationMethods": ["generateContent"],
                    }
                    for i in ids
                ]
            }
        )

    def sent_text(self, request: RecordedRequest) -> str:
        return "\n".join(part["text"] for part in _parts(request) if "text" in part)

    def sent_tool_names(self, request: RecordedRequest) -> list[str]:
        return [
            declaration["name"]
            for tool in request.json.get("tools", [])
            for declaration in tool.get("functionDeclarations", [])
        ]

    def sent_tool_result(self, request: RecordedRequest) -> tuple[str, str] | None:
        for part in _parts(request):
            if "functionResponse" in part:
                result = part["functionResponse"]
                payload = result["response"]
                text = payload["output"] if set(payload) == {"output"} else json.dumps(payload)
                return self._scripted_ids.get(result["name"], result["name"]), text
        return None

    def sent_json_mode(self, request: RecordedRequest) -> bool:
        config = request.json.get("generationConfig") or {}
        return bool(config.get("responseMimeType") == "application/json")

    def sent_image(self, request: RecordedRequest) -> bool:
        return any("inlineData" in part for part in _parts(request))

    def sent_document(self, request: RecordedRequest) -> bool:
        document = {"mimeType": "application/pdf", "data": PDF_BASE64}
        return any(part.get("inlineData") == document for part in _parts(request))


CASE = ProviderCase(
    name="gemini",
    upstream=GeminiUpstream,
    provider=lambda url: GeminiProvider("gemini", GeminiSettings(base_url=url, api_key="g-test")),
    model="gemini-2.5-flash",
    embedding_model="gemini-embedding-001",
    wire=GeminiWire(),
    reference="https://ai.google.dev/api/generate-content",
)
