"""Rendering canonical objects as OpenAI chat-completions JSON: the request body the
``openai`` adapter sends upstream, and the ``chat.completion`` / ``chat.completion.chunk``
replies the OpenAI-compatible front door sends to callers.

Replies validate against ``CreateChatCompletionResponse`` / ``CreateChatCompletionStreamResponse``
of OpenAI's OpenAPI description. Reasoning text goes out as ``reasoning_content``, the name most
OpenAI-compatible clients read.

Documents in a request: a PDF (any type but plain text) as a ``file`` part with its data URL as
``file_data`` and a ``filename``; a plain-text document as a text part of its text (what
OpenAI's file-inputs guide says to do: chat completions reads PDFs only); one given by URL is
refused (a ``file`` part has no URL field). A tool message takes text only, so a tool result's
``file`` parts go in a user message after the run of tool messages it stands in.
"""

from __future__ import annotations

from typing import Any, Literal

from switchyard.errors import InvalidRequest
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ContentPart,
    FilePart,
    Message,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
    Usage,
)

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]

# OpenAI has no "error" finish reason; a stream that broke ends with an error event instead.
_FINISH_TO_OPENAI: dict[str, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "error": "stop",
}


# -- canonical -> upstream request ------------------------------------------------------------


def request_to_openai(
    request: ChatRequest,
    *,
    stream: bool | None = None,
    max_tokens_field: MaxTokensField = "max_tokens",
) -> dict[str, Any]:
    """The upstream ``POST /chat/completions`` body for a canonical request.

    ``stream`` overrides ``request.stream``; a streamed body always asks for
    ``stream_options.include_usage`` (the gateway accounts every stream). ``max_tokens_field``
    names the limit: OpenAI's reference deprecates ``max_tokens`` for ``max_completion_tokens``
    (its reasoning models reject the old name) while older OpenAI-compatible servers only know
    ``max_tokens``, so the adapter picks per upstream (see ``OpenAISettings``). A
    ``max_tokens`` or ``max_completion_tokens`` key in ``extra`` wins over both. ``extra`` is
    merged last; ``Message.reasoning`` is not sent (upstreams reject it in the history).
    ``reasoning.effort`` goes out as ``reasoning_effort`` (a budget has no place here).
    """
    body: dict[str, Any] = {
        "model": request.model,
        "messages": _request_messages(request.messages),
    }
    if request.tools is not None:
        body["tools"] = [_tool_to_openai(tool) for tool in request.tools]
    choice = request.tool_choice
    if choice is not None:
        body["tool_choice"] = (
            choice
            if isinstance(choice, str)
            else {"type": "function", "function": {"name": choice.name}}
        )
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.response_format is not None:
        body["response_format"] = _response_format_to_openai(request.response_format)
    for key in (
        "temperature",
        "top_p",
        "stop",
        "seed",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "user",
        "metadata",
    ):
        value = getattr(request, key)
        if value is not None:
            body[key] = value
    if request.reasoning is not None and request.reasoning.effort is not None:
        body["reasoning_effort"] = request.reasoning.effort  # ``extra`` may still say otherwise
    extra = request.extra or {}
    if request.max_tokens is not None and not (
        "max_tokens" in extra or "max_completion_tokens" in extra
    ):
        body[max_tokens_field] = request.max_tokens
    streaming = request.stream if stream is None else stream
    if streaming:
        body["stream"] = True
        options = extra.get("stream_options")
        body["stream_options"] = {
            **(options if isinstance(options, dict) else {}),
            "include_usage": True,
        }
    for key, value in extra.items():
        if key != "stream_options":
            body[key] = value
    return body


def _request_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """The messages; the ``file`` parts of a run of tool results in a user message after it."""
    out: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []  # file parts of the tool results just rendered
    for i, message in enumerate(messages):
        rendered = _request_message(message, i)
        content = rendered["content"]
        if message.role == "tool" and isinstance(content, list):
            held.extend(part for part in content if part["type"] == "file")
            rendered["content"] = [part for part in content if part["type"] != "file"] or ""
        elif held:
            out.append({"role": "user", "content": held})
            held = []
        out.append(rendered)
    if held:
        out.append({"role": "user", "content": held})
    return out


def _request_message(message: Message, i: int) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role}
    content = message.content
    if isinstance(content, list):
        where = f"messages[{i}].content"
        out["content"] = [_part_to_openai(part, f"{where}[{j}]") for j, part in enumerate(content)]
    else:
        out["content"] = content
    if message.name is not None:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = _tool_calls_to_openai(message.tool_calls)
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.refusal is not None and message.role == "assistant":
        out["refusal"] = message.refusal
    return out


def _part_to_openai(part: ContentPart, where: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, FilePart):
        return _file_to_openai(part, where)
    image: dict[str, Any] = {"url": part.url}
    if part.detail is not None:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _file_to_openai(part: FilePart, where: str) -> dict[str, Any]:
    text = part.plain_text()
    if text is not None:
        return {"type": "text", "text": text}
    if part.base64_data is None:
        raise InvalidRequest(
            f"{where}: OpenAI's chat completions takes a document's data (a data: URL), "
            "not its URL",
            param=where,
        )
    return {"type": "file", "file": {"filename": part.name, "file_data": part.url}}


def _tool_to_openai(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _response_format_to_openai(fmt: ResponseFormat) -> dict[str, Any]:
    spec = fmt.json_schema
    if fmt.type != "json_schema" or spec is None:
        return {"type": fmt.type}
    out: dict[str, Any] = {"name": spec.name}
    if spec.description is not None:
        out["description"] = spec.description
    if spec.schema_ is not None:
        out["schema"] = spec.schema_
    if spec.strict is not None:
        out["strict"] = spec.strict
    return {"type": "json_schema", "json_schema": out}


# -- canonical -> caller reply ----------------------------------------------------------------


def response_to_openai(response: ChatResponse) -> dict[str, Any]:
    """A canonical response as OpenAI's ``chat.completion`` JSON."""
    body: dict[str, Any] = {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created,
        "model": response.model,
        "choices": [
            {
                "index": choice.index,
                "message": _reply_message(choice.message),
                "finish_reason": _FINISH_TO_OPENAI[choice.finish_reason or "stop"],
                "logprobs": None,
            }
            for choice in response.choices
        ],
        "usage": _usage_to_openai(response.usage),
    }
    if response.system_fingerprint is not None:
        body["system_fingerprint"] = response.system_fingerprint
    return body


def chunk_to_openai(chunk: ChatChunk) -> dict[str, Any]:
    """A canonical chunk as one ``chat.completion.chunk``. A chunk with only ``usage`` has
    ``choices: []``, as OpenAI sends it with ``include_usage``; usage riding on a content or
    finish chunk stays on it (see :func:`chunk_to_openai_payloads` to split it off)."""
    body = _chunk_envelope(chunk)
    delta = _delta_to_openai(chunk)
    has_choice = bool(delta) or chunk.finish_reason is not None or chunk.usage is None
    body["choices"] = [_chunk_choice(chunk, delta)] if has_choice else []
    if chunk.usage is not None:
        body["usage"] = _usage_to_openai(chunk.usage)
    _add_failover(body, chunk)
    return body


def chunk_to_openai_payloads(
    chunk: ChatChunk, *, include_usage: bool = True
) -> list[dict[str, Any]]:
    """A canonical chunk as the ``chat.completion.chunk`` payloads OpenAI itself would send:
    the delta or finish chunk, then (when ``include_usage``) usage in a chunk of its own with
    ``choices: []``, its ``usage.cost`` the stream's cost in USD when the deployment is priced
    (the ``x-switchyard-cost-usd`` header of a plain answer, which a stream sends before its
    cost is known). Empty when there is nothing to send (also for a chunk that carries only
    what OpenAI's format has no place for: a thinking block's signature, redacted thinking)."""
    delta = _delta_to_openai(chunk)
    payloads: list[dict[str, Any]] = []
    carries = chunk.finish_reason is not None or chunk.failover is not None
    foreign = chunk.signature is not None or chunk.redacted_thinking is not None
    if delta or carries or (chunk.usage is None and not foreign):
        body = _chunk_envelope(chunk)
        body["choices"] = [_chunk_choice(chunk, delta)]
        payloads.append(body)
    if include_usage and chunk.usage is not None:
        body = _chunk_envelope(chunk)
        body["choices"] = []
        body["usage"] = usage = _usage_to_openai(chunk.usage)
        if chunk.cost is not None:  # as OpenRouter does; unpriced: no field, never a fake 0
            usage["cost"] = float(chunk.cost.exact_total)
        payloads.append(body)
    if payloads:
        _add_failover(payloads[0], chunk)
    return payloads


def _add_failover(body: dict[str, Any], chunk: ChatChunk) -> None:
    """A mid-stream failover, as an extra top-level field OpenAI's SDKs keep (in
    ``model_extra``): ``"switchyard": {"failover": {"from", "to", "reason"}}``."""
    failover = chunk.failover
    if failover is not None:
        body["switchyard"] = {
            "failover": {
                "from": failover.from_deployment,
                "to": failover.to_deployment,
                "reason": failover.reason,
            }
        }


def _chunk_envelope(chunk: ChatChunk) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": chunk.id,
        "object": "chat.completion.chunk",
        "created": chunk.created,
        "model": chunk.model,
    }
    if chunk.system_fingerprint is not None:
        body["system_fingerprint"] = chunk.system_fingerprint
    return body


def _chunk_choice(chunk: ChatChunk, delta: dict[str, Any]) -> dict[str, Any]:
    finish = chunk.finish_reason
    return {
        "index": chunk.index,
        "delta": delta,
        "finish_reason": _FINISH_TO_OPENAI[finish] if finish is not None else None,
    }


def _delta_to_openai(chunk: ChatChunk) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if chunk.role is not None:
        delta["role"] = chunk.role
    if chunk.text is not None:
        delta["content"] = chunk.text
    if chunk.reasoning is not None:
        delta["reasoning_content"] = chunk.reasoning
    if chunk.refusal is not None:
        delta["refusal"] = chunk.refusal
    if chunk.tool_calls:
        calls: list[dict[str, Any]] = []
        for piece in chunk.tool_calls:
            call: dict[str, Any] = {"index": piece.index}
            if piece.id is not None:
                call["id"] = piece.id
                call["type"] = "function"
            function: dict[str, Any] = {}
            if piece.name is not None:
                function["name"] = piece.name
            if piece.arguments is not None:
                function["arguments"] = piece.arguments
            if function:
                call["function"] = function
            calls.append(call)
        delta["tool_calls"] = calls
    return delta


def _reply_message(message: Message) -> dict[str, Any]:
    content = message.content
    out: dict[str, Any] = {
        "role": "assistant",
        "content": message.text() if isinstance(content, list) else content,
        "refusal": message.refusal,
    }
    if message.tool_calls:
        out["tool_calls"] = _tool_calls_to_openai(message.tool_calls)
    if message.reasoning is not None:
        out["reasoning_content"] = message.reasoning
    return out


def _usage_to_openai(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _tool_calls_to_openai(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in calls
    ]


__all__ = [
    "MaxTokensField",
    "chunk_to_openai",
    "chunk_to_openai_payloads",
    "request_to_openai",
    "response_to_openai",
]
