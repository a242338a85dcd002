"""Canonical answers -> Gemini's ``GenerateContentResponse`` (pure), as the REST reference
gives it (ai.google.dev/api/generate-content#generatecontentresponse):

- one candidate per choice: ``content`` (role ``model``) with the reasoning as a
  ``thought: true`` text part, then the answer's text part, then one ``functionCall`` part per
  tool call (``id``, ``name``, ``args`` parsed from the call's JSON text, ``{}`` when that is
  not a JSON object; the call's ``thoughtSignature`` when it came with one); ``finishReason``
  by :data:`FINISH_REASONS` (``tool_calls`` is ``STOP``, as Gemini says it); ``index``;
- ``usageMetadata``: canonical input (cache included, as Gemini counts it) is
  ``promptTokenCount``, cached tokens ``cachedContentTokenCount``, reasoning tokens
  ``thoughtsTokenCount`` and the rest of the output ``candidatesTokenCount``;
- ``modelVersion`` (the upstream model that answered) and ``responseId``.
"""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.status import ModelListing
from switchyard.types import ChatResponse, Choice, FinishReason, Message, ToolCall, Usage

FINISH_REASONS: dict[FinishReason, str] = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "error": "OTHER",
}
# what every model answers through this door: the routes it serves
GENERATION_METHODS = (
    "generateContent",
    "streamGenerateContent",
    "countTokens",
    "embedContent",
    "batchEmbedContents",
)


def response_to_gemini(response: ChatResponse) -> dict[str, Any]:
    return {
        "candidates": [_candidate(choice) for choice in response.choices],
        "usageMetadata": usage_to_gemini(response.usage),
        "modelVersion": response.model,
        "responseId": response.id,
    }


def _candidate(choice: Choice) -> dict[str, Any]:
    return {
        "content": {"parts": parts_of(choice.message) or [{"text": ""}], "role": "model"},
        "finishReason": finish_reason(choice.finish_reason),
        "index": choice.index,
    }


def parts_of(message: Message) -> list[dict[str, Any]]:
    """The message's parts: thought, text, function calls (none of them empty)."""
    parts: list[dict[str, Any]] = []
    if message.reasoning:
        parts.append({"text": message.reasoning, "thought": True})
    text = message.text()
    if text:
        parts.append({"text": text})
    parts.extend(function_call_part(call) for call in message.tool_calls or ())
    return parts


def function_call_part(call: ToolCall) -> dict[str, Any]:
    part: dict[str, Any] = {
        "functionCall": {"id": call.id, "name": call.name, "args": call_args(call.arguments)}
    }
    if call.thought_signature:
        part["thoughtSignature"] = call.thought_signature
    return part


def call_args(arguments: str) -> dict[str, Any]:
    """A call's JSON text as Gemini's ``args`` object (``{}`` when it is not one)."""
    try:
        value = orjson.loads(arguments) if arguments.strip() else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def finish_reason(finish: FinishReason | None) -> str:
    return FINISH_REASONS.get(finish, "STOP") if finish is not None else "STOP"


def usage_to_gemini(usage: Usage | None) -> dict[str, int]:
    usage = usage or Usage()
    out = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": max(usage.output_tokens - usage.reasoning_tokens, 0),
        "totalTokenCount": usage.total_tokens,
    }
    if usage.cached_input_tokens:
        out["cachedContentTokenCount"] = usage.cached_input_tokens
    if usage.reasoning_tokens:
        out["thoughtsTokenCount"] = usage.reasoning_tokens
    return out


def model_to_gemini(model: ModelListing) -> dict[str, Any]:
    """A ``Model`` resource for one model the caller may use (its limits are the routed
    deployments', so none are claimed here)."""
    return {
        "name": f"models/{model.id}",
        "baseModelId": model.id,
        "version": "switchyard",
        "displayName": model.id,
        "description": ("an alias of the gateway" if model.alias else f"by {model.owned_by}"),
        "supportedGenerationMethods": list(GENERATION_METHODS),
    }


__all__ = [
    "FINISH_REASONS",
    "GENERATION_METHODS",
    "call_args",
    "finish_reason",
    "function_call_part",
    "model_to_gemini",
    "parts_of",
    "response_to_gemini",
    "usage_to_gemini",
]
