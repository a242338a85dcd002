"""The span attributes, as the OpenTelemetry GenAI semantic conventions name them, from the
Gateway's canonical objects: pure functions, no OpenTelemetry import, tested on their own.

Names: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/ (``gen_ai.*``,
``error.type``); Switchyard's own facts are under ``switchyard.*``. Prompt and completion
content (``gen_ai.input.messages``, ``gen_ai.output.messages``) is built only for an alias with
``trace_content: true``, and capped at :data:`MAX_CONTENT_CHARS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from switchyard.records.record import RequestKind, RequestRecord
from switchyard.types import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse

Attributes = dict[str, Any]

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
MAX_TOKENS = "gen_ai.request.max_tokens"
TEMPERATURE = "gen_ai.request.temperature"
TOP_P = "gen_ai.request.top_p"
SEED = "gen_ai.request.seed"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
ERROR_TYPE = "error.type"
OUTCOME = "switchyard.attempt.outcome"  # ok, error, timeout, abandoned, cancelled
HEDGE = "switchyard.attempt.hedge"
DEPLOYMENT = "switchyard.deployment"  # "provider/model", the config's names
TTFT = "switchyard.time_to_first_token_ms"

MAX_CONTENT_CHARS = 65_536  # a span attribute of recorded content, at most

# the kinds of request, as gen_ai.operation.name says them
OPERATIONS: dict[RequestKind, str] = {"chat": "chat", "stream": "chat", "embed": "embeddings"}
# adapter types whose gen_ai.provider.name the conventions spell otherwise
_PROVIDERS = {
    "gemini": "gcp.gemini",
    "azure_openai": "azure.ai.openai",
    "mistral": "mistral_ai",
}
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")


class ParentContext(NamedTuple):
    trace_id: int
    span_id: int
    flags: int


def provider_name(adapter_type: str) -> str:
    """``gen_ai.provider.name`` for an adapter type (``openai``, ``anthropic``, ``gemini``...)."""
    return _PROVIDERS.get(adapter_type, adapter_type)


def span_name(operation: str, model: str) -> str:
    """``{gen_ai.operation.name} {gen_ai.request.model}``, as the conventions name spans."""
    return f"{operation} {model}"


def parse_traceparent(value: str | None) -> ParentContext | None:
    """A W3C ``traceparent`` header, or None when it is absent or not valid (then the request
    starts a new trace, as the W3C spec says: an invalid header is ignored, not an error)."""
    if not value or len(value) > 512:
        return None
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace, span, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    trace_id, span_id = int(trace, 16), int(span, 16)
    if trace_id == 0 or span_id == 0:
        return None
    return ParentContext(trace_id, span_id, int(flags, 16))


def format_traceparent(trace_id: int, span_id: int, flags: int) -> str:
    return f"00-{trace_id:032x}-{span_id:016x}-{flags:02x}"


def request_attributes(kind: RequestKind, request: ChatRequest | EmbeddingRequest) -> Attributes:
    """The request span's attributes known when the request begins."""
    attributes: Attributes = {OPERATION: OPERATIONS[kind], REQUEST_MODEL: request.model}
    if isinstance(request, ChatRequest):
        if request.max_tokens is not None:
            attributes[MAX_TOKENS] = request.max_tokens
        if request.temperature is not None:
            attributes[TEMPERATURE] = request.temperature
        if request.top_p is not None:
            attributes[TOP_P] = request.top_p
        if request.seed is not None:
            attributes[SEED] = request.seed
    return attributes


def attempt_attributes(
    kind: RequestKind, adapter_type: str, deployment: str, model: str, *, hedge: bool
) -> Attributes:
    """An attempt span's attributes when it starts: which deployment, which upstream model,
    and (only when it is one) that it is a hedge."""
    attributes: Attributes = {
        OPERATION: OPERATIONS[kind],
        PROVIDER: provider_name(adapter_type),
        REQUEST_MODEL: model,
        DEPLOYMENT: deployment,
    }
    if hedge:
        attributes[HEDGE] = True
    return attributes


def response_attributes(response: ChatResponse | EmbeddingResponse) -> Attributes:
    """What an upstream's answer says: its model, id, usage and finish reasons."""
    usage = response.usage
    attributes: Attributes = {
        RESPONSE_MODEL: response.model,
        INPUT_TOKENS: usage.input_tokens,
        OUTPUT_TOKENS: usage.output_tokens,
    }
    if isinstance(response, ChatResponse):
        attributes[RESPONSE_ID] = response.id
        attributes[FINISH_REASONS] = [c.finish_reason or "" for c in response.choices]
    return attributes


def record_attributes(record: RequestRecord, adapter_type: str | None) -> Attributes:
    """The request span's attributes at its end, from the request's record (the deployment
    that answered is its attempt span's ``switchyard.deployment``; a status other than
    ``success`` is ``switchyard.status``; ``switchyard.attempts`` when there was more than one)."""
    attributes: Attributes = {"switchyard.request_id": record.request_id}
    if len(record.attempts) > 1:  # failovers, hedges, mid-stream failovers
        attributes["switchyard.attempts"] = len(record.attempts)
    if record.status != "success":
        attributes["switchyard.status"] = record.status
    principal = record.principal
    if principal.tenant:
        attributes["switchyard.tenant"] = principal.tenant
    if record.provider is not None:
        if adapter_type is not None:
            attributes[PROVIDER] = provider_name(adapter_type)
        attributes[RESPONSE_MODEL] = record.model
    usage = record.usage
    if usage is not None:
        attributes[INPUT_TOKENS] = usage.input_tokens
        attributes[OUTPUT_TOKENS] = usage.output_tokens
    if record.cost is not None:
        attributes["switchyard.cost_usd"] = record.cost.total
    if record.cache_result is not None:
        attributes["switchyard.cache"] = record.cache_result
    if record.hedged:
        attributes["switchyard.hedged"] = True
    if record.ttft_ms is not None:
        attributes[TTFT] = record.ttft_ms
    if record.error_type is not None:
        attributes[ERROR_TYPE] = record.error_type
        attributes["http.response.status_code"] = record.http_status
    return attributes


def input_messages(request: ChatRequest | EmbeddingRequest) -> str:
    """``gen_ai.input.messages``: the prompt as the conventions' JSON (role and parts)."""
    if isinstance(request, EmbeddingRequest):
        messages: list[dict[str, Any]] = [
            {"role": "user", "parts": [{"type": "text", "content": text}]} for text in request.input
        ]
    else:
        messages = [
            {"role": m.role, "parts": _parts(m.content, m.tool_calls)} for m in request.messages
        ]
    return _capped(orjson.dumps(messages).decode())


def output_messages(texts: Sequence[str], finish_reasons: Sequence[str | None]) -> str:
    """``gen_ai.output.messages``: the completion(s) as the conventions' JSON."""
    messages = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": text}],
            "finish_reason": reason or "",
        }
        for text, reason in zip(texts, finish_reasons, strict=True)
    ]
    return _capped(orjson.dumps(messages).decode())


def response_messages(response: ChatResponse) -> str:
    return output_messages(
        [c.message.text() for c in response.choices], [c.finish_reason for c in response.choices]
    )


def _parts(content: object, tool_calls: Sequence[Any] | None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if isinstance(content, str):
        parts.append({"type": "text", "content": content})
    elif isinstance(content, list):
        for part in content:
            text = getattr(part, "text", None)
            parts.append(
                {"type": "text", "content": text}
                if isinstance(text, str)
                else {"type": getattr(part, "type", "other")}
            )
    for call in tool_calls or ():
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        )
    return parts


def _capped(text: str) -> str:
    if len(text) <= MAX_CONTENT_CHARS:
        return text
    return text[:MAX_CONTENT_CHARS] + "...[truncated]"


__all__ = [
    "ERROR_TYPE",
    "OPERATIONS",
    "OUTCOME",
    "Attributes",
    "ParentContext",
    "attempt_attributes",
    "format_traceparent",
    "input_messages",
    "output_messages",
    "parse_traceparent",
    "provider_name",
    "record_attributes",
    "request_attributes",
    "response_attributes",
    "response_messages",
    "span_name",
]
