"""OpenAI's Responses API as an upstream (``wire_api: responses``): the pure translation.

Canonical request -> the ``POST {base_url}/responses`` body (:func:`request_to_responses`):

- system and developer messages -> ``message`` items of that role; user messages -> ``message``
  items of ``input_text`` / ``input_image`` / ``input_file`` parts (a document's data URL as
  ``file_data`` with a ``filename``, its URL as ``file_url``); an assistant turn -> its
  reasoning (a thinking block with a signature: a ``reasoning`` item whose
  ``encrypted_content`` is the signature), its ``message`` (``output_text``), then one
  ``function_call`` item per tool call (``call_id``, ``name``, ``arguments``); a tool message
  -> ``function_call_output`` (its text, or its parts when it has images or documents);
- tools -> ``function`` tools (``strict`` false unless the tool says otherwise: Responses
  defaults it to true, chat completions to false); ``tool_choice``, ``parallel_tool_calls``,
  ``temperature``, ``top_p``, ``metadata``, ``user`` as they are; ``max_tokens`` ->
  ``max_output_tokens``; ``response_format`` -> ``text.format``; ``reasoning`` ->
  ``reasoning.effort``; ``store`` false (the gateway keeps its own state); ``stop``, ``seed``,
  ``n`` and the penalties have no place in this API and are left out;
- then the caller's ``format_fields`` of the ``openai_responses`` format (the Responses door's
  whole body: its ``input`` items with their ids and encrypted reasoning, hosted tools,
  ``include``, ``prompt_cache_key``, ``store`` ...), merged in unchanged, so nothing a
  Responses client sent is lost (but ``previous_response_id``, an id of the gateway's whose
  conversation is already in ``input``, and the ``id`` of input items, which are the
  gateway's too); then ``extra``.

A ``Response`` object -> a canonical answer (:func:`response_from_responses`), and the
streamed events -> canonical chunks (:class:`ResponsesStreamTranslator`): ``output_text`` ->
text, ``refusal`` -> refusal, reasoning summaries (or reasoning text) -> reasoning and a
reasoning item's ``encrypted_content`` -> a thinking block's signature (so it goes back to the
client, and from it back here), ``function_call`` items -> tool calls; ``status``
``incomplete`` -> finish ``length`` (``max_output_tokens``) or ``content_filter``, tool calls
-> ``tool_calls``, else ``stop``; ``failed`` or an ``error`` event -> the taxonomy error its
``code`` means. Usage: ``input_tokens`` (cached included), ``output_tokens`` (reasoning
included), ``input_tokens_details.cached_tokens``, ``output_tokens_details.reasoning_tokens``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.errors import ProviderUnavailable, SwitchyardError, UpstreamProtocolError
from switchyard.formats.openai_errors import map_openai_error_payload
from switchyard.streaming.sse import SseEvent
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ContentPart,
    FilePart,
    FinishReason,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingBlock,
    ToolCall,
    ToolCallDelta,
    Usage,
)

Item = dict[str, Any]
_TERMINAL = frozenset({"response.completed", "response.incomplete"})


# -- canonical -> upstream request ------------------------------------------------------------


def request_to_responses(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "input": [item for message in request.messages for item in _items(message)],
        "store": False,
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": tool.name,
                **({"description": tool.description} if tool.description is not None else {}),
                "parameters": tool.parameters,
                "strict": bool(tool.strict),
            }
            for tool in request.tools
        ]
        choice = request.tool_choice
        if choice is not None:
            body["tool_choice"] = (
                choice if isinstance(choice, str) else {"type": "function", "name": choice.name}
            )
    for key in ("parallel_tool_calls", "temperature", "top_p", "user", "metadata"):
        value = getattr(request, key)
        if value is not None:
            body[key] = value
    if request.max_tokens is not None:
        body["max_output_tokens"] = request.max_tokens
    if request.response_format is not None:
        body["text"] = {"format": _text_format(request.response_format)}
    if request.reasoning is not None and request.reasoning.effort is not None:
        body["reasoning"] = {"effort": request.reasoning.effort}
    native = request.format_fields
    if native is not None and native.format == "openai_responses":
        body.update(native.fields)
        # the gateway's own id, whose conversation the Responses door already put in ``input``
        body.pop("previous_response_id", None)
        if isinstance(body.get("input"), list):
            body["input"] = [_without_id(item) for item in body["input"]]
    for key, value in (request.extra or {}).items():
        if key != "stream_options":
            body[key] = value
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return body


def _without_id(item: Any) -> Any:
    """An input item without its ``id``: the ids a client echoes are the gateway's (it gives
    its own to every output item, whichever upstream answered), unknown upstream, which
    refuses ids it did not store (``store: false``); the item's content is all it needs. An
    ``item_reference`` is nothing but its id and keeps it."""
    if isinstance(item, dict) and "id" in item and item.get("type") != "item_reference":
        return {k: v for k, v in item.items() if k != "id"}
    return item


def _items(message: Message) -> list[Item]:
    role = message.role
    if role == "tool":
        output: Any = message.text()
        if isinstance(message.content, list) and any(
            isinstance(p, ImagePart | FilePart) for p in message.content
        ):
            output = [_input_part(p) for p in message.content]
        return [
            {
                "type": "function_call_output",
                "call_id": message.tool_call_id or "",
                "output": output,
            }
        ]
    if role != "assistant":
        content: Any
        if isinstance(message.content, list):
            content = [_input_part(p) for p in message.content]
        else:
            content = message.content or ""
        return [{"type": "message", "role": role, "content": content}]
    items: list[Item] = []
    for block in message.thinking or ():
        if block.type == "thinking" and block.signature:
            summary = [{"type": "summary_text", "text": block.thinking}] if block.thinking else []
            items.append(
                {"type": "reasoning", "summary": summary, "encrypted_content": block.signature}
            )
    text = message.text()
    if text or message.refusal:
        parts: list[Item] = []
        if text:
            parts.append({"type": "output_text", "text": text, "annotations": []})
        if message.refusal:
            parts.append({"type": "refusal", "refusal": message.refusal})
        items.append({"type": "message", "role": "assistant", "content": parts})
    for call in message.tool_calls or ():
        items.append(
            {
                "type": "function_call",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
            }
        )
    return items


def _input_part(part: ContentPart) -> Item:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, FilePart):
        if part.is_data_url:
            return {"type": "input_file", "filename": part.name, "file_data": part.url}
        named = {"filename": part.filename} if part.filename is not None else {}
        return {"type": "input_file", "file_url": part.url, **named}
    return {"type": "input_image", "image_url": part.url, "detail": part.detail or "auto"}


def _text_format(fmt: ResponseFormat) -> Item:
    if fmt.type != "json_schema" or fmt.json_schema is None:
        return {"type": fmt.type}
    schema = fmt.json_schema
    out: Item = {"type": "json_schema", "name": schema.name, "schema": schema.schema_ or {}}
    if schema.description is not None:
        out["description"] = schema.description
    if schema.strict is not None:
        out["strict"] = schema.strict
    return out


# -- upstream reply -> canonical --------------------------------------------------------------


def response_from_responses(payload: Any, provider: str) -> ChatResponse:
    """A ``Response`` object as a canonical answer; a ``failed`` one raises its error."""
    if not isinstance(payload, dict) or not isinstance(payload.get("output"), list):
        if isinstance(payload, dict) and "error" in payload:
            raise map_openai_error_payload(payload, provider)
        raise UpstreamProtocolError("malformed Responses API reply", provider=provider)
    if payload.get("status") == "failed":
        raise _failure(payload, provider)
    texts: list[str] = []
    refusals: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[ThinkingBlock] = []
    for item in payload["output"]:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or ():
                if isinstance(part, dict) and part.get("type") == "output_text":
                    texts.append(str(part.get("text", "")))
                elif isinstance(part, dict) and part.get("type") == "refusal":
                    refusals.append(str(part.get("refusal", "")))
        elif kind == "function_call":
            calls.append(
                ToolCall(
                    id=str(item.get("call_id", "")),
                    name=str(item.get("name", "")),
                    arguments=str(item.get("arguments", "")),
                )
            )
        elif kind == "reasoning":
            thinking.append(_thinking(item))
    reasoning = "".join(block.thinking for block in thinking)
    message = Message(
        role="assistant",
        content="".join(texts) if texts or not calls else None,
        tool_calls=calls or None,
        refusal="".join(refusals) or None,
        reasoning=reasoning or None,
        thinking=thinking or None,
    )
    return ChatResponse(
        id=str(payload.get("id", "")),
        created=_int(payload.get("created_at")) or int(time.time()),
        model=str(payload.get("model", "")),
        provider=provider,
        choices=[Choice(message=message, finish_reason=_finish(payload, bool(calls)))],
        usage=usage_from_responses(payload.get("usage")),
    )


def usage_from_responses(usage: Any) -> Usage:
    if not isinstance(usage, dict):
        return Usage()
    inputs = usage.get("input_tokens_details")
    outputs = usage.get("output_tokens_details")
    return Usage(
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cached_input_tokens=_int(inputs.get("cached_tokens")) if isinstance(inputs, dict) else 0,
        cache_write_input_tokens=(
            _int(inputs.get("cache_write_tokens")) if isinstance(inputs, dict) else 0
        ),
        reasoning_tokens=_int(outputs.get("reasoning_tokens")) if isinstance(outputs, dict) else 0,
    )


def _thinking(item: Item) -> ThinkingBlock:
    summary = item.get("summary")
    texts = [
        str(part.get("text", ""))
        for part in (summary if isinstance(summary, list) else ())
        if isinstance(part, dict)
    ]
    if not texts:  # reasoning text (open-weight models) when there is no summary
        content = item.get("content")
        texts = [
            str(part.get("text", ""))
            for part in (content if isinstance(content, list) else ())
            if isinstance(part, dict)
        ]
    sealed = item.get("encrypted_content")
    return ThinkingBlock(
        thinking="".join(texts), signature=sealed if isinstance(sealed, str) else None
    )


def _finish(payload: Mapping[str, Any], called: bool) -> FinishReason:
    if payload.get("status") == "incomplete":
        details = payload.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if called else "stop"


def _failure(payload: Mapping[str, Any], provider: str) -> SwitchyardError:
    error = payload.get("error")
    if not isinstance(error, dict):
        error = {"message": "the upstream response failed", "code": "server_error"}
    return map_openai_error_payload({"error": error}, provider)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# -- upstream stream -> canonical chunks ------------------------------------------------------


class ResponsesStreamTranslator:
    """``feed`` each SSE event of a streamed response; ``done`` once its terminal event came."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.done = False
        self._id = ""
        self._model = ""
        self._created = 0
        self._calls: dict[str, int] = {}  # function_call item id -> canonical call index
        self._called = False

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        if not event.data or self.done:
            return []
        try:
            payload = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            raise UpstreamProtocolError(
                f"upstream sent a malformed stream event: {event.data[:200]!r}",
                provider=self.provider,
            ) from exc
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("stream event is not a JSON object", provider=self.provider)
        kind = payload.get("type") or event.event
        if kind == "error":
            error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
            raise map_openai_error_payload({"error": error}, self.provider)
        if kind in ("response.created", "response.in_progress"):
            return self._started(payload.get("response"), first=kind == "response.created")
        if kind == "response.output_text.delta":
            return [self._chunk(text=str(payload.get("delta", "")))]
        if kind == "response.refusal.delta":
            return [self._chunk(refusal=str(payload.get("delta", "")))]
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            return [self._chunk(reasoning=str(payload.get("delta", "")))]
        if kind == "response.output_item.added":
            return self._item_added(payload.get("item"))
        if kind == "response.function_call_arguments.delta":
            index = self._calls.get(str(payload.get("item_id", "")))
            if index is None:
                return []
            delta = ToolCallDelta(index=index, arguments=str(payload.get("delta", "")))
            return [self._chunk(tool_calls=[delta])]
        if kind == "response.output_item.done":
            item = payload.get("item")
            if isinstance(item, dict) and item.get("type") == "reasoning":
                sealed = item.get("encrypted_content")
                if isinstance(sealed, str) and sealed:
                    return [self._chunk(signature=sealed)]
            return []
        if kind in _TERMINAL:
            self.done = True
            response = payload.get("response")
            response = response if isinstance(response, dict) else {}
            return [
                self._chunk(
                    finish_reason=_finish(response, self._called),
                    usage=usage_from_responses(response.get("usage")),
                )
            ]
        if kind == "response.failed":
            response = payload.get("response")
            raise _failure(response if isinstance(response, dict) else {}, self.provider)
        return []

    def finish(self) -> list[ChatChunk]:
        if not self.done:
            raise ProviderUnavailable(
                "stream ended early (no response.completed)", provider=self.provider
            )
        return []

    def _started(self, response: Any, *, first: bool) -> list[ChatChunk]:
        if isinstance(response, dict):
            self._id = str(response.get("id", self._id))
            self._model = str(response.get("model", self._model))
            self._created = _int(response.get("created_at")) or self._created
        return [self._chunk(role="assistant")] if first else []

    def _item_added(self, item: Any) -> list[ChatChunk]:
        if not isinstance(item, dict) or item.get("type") != "function_call":
            return []
        index = len(self._calls)
        self._calls[str(item.get("id", index))] = index
        self._called = True
        delta = ToolCallDelta(
            index=index,
            id=str(item.get("call_id", "")),
            name=str(item.get("name", "")),
            arguments=str(item.get("arguments", "")) or None,
        )
        return [self._chunk(tool_calls=[delta])]

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(
            id=self._id, created=self._created or int(time.time()), model=self._model, **fields
        )


__all__ = [
    "ResponsesStreamTranslator",
    "request_to_responses",
    "response_from_responses",
    "usage_from_responses",
]
