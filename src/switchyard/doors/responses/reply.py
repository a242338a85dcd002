"""Canonical answers -> OpenAI's ``Response`` object and its output items (pure).

- ``output``, in order: the reasoning (one ``reasoning`` item per thinking block, its text as
  the summary; a signed block's signature, or redacted thinking's data, sealed into
  ``encrypted_content`` so that it comes back with the client's next turn, see
  :func:`~switchyard.doors.responses.request.seal_thinking`; reasoning text alone is one item
  without it), then the ``message`` (``output_text``, or a ``refusal`` part), then one
  ``function_call`` item per tool call (``call_id`` the call's id, ``arguments`` its JSON text
  as it came);
- ``status``: ``completed``; ``incomplete`` with ``incomplete_details.reason``
  ``max_output_tokens`` (finish ``length``) or ``content_filter``;
- ``usage``: ``input_tokens`` (cached included, as OpenAI counts), ``output_tokens``
  (reasoning included), ``input_tokens_details.cached_tokens`` (and ``cache_write_tokens``),
  ``output_tokens_details.reasoning_tokens``, ``total_tokens``;
- the request's own settings echoed (``instructions``, ``tools``, ``tool_choice``, ``text``,
  ``reasoning``, ...) from the body the client sent.
"""

from __future__ import annotations

from typing import Any

from switchyard.doors.responses.request import seal_thinking
from switchyard.types import ChatResponse, FinishReason, Message, ThinkingBlock, ToolCall, Usage
from switchyard.types.principal import new_request_id

Item = dict[str, Any]


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_request_id()}"


def item_id(response_id: str, prefix: str, index: int) -> str:
    """The id of a response's ``index``-th item (output, or input as the list shows it): its
    response's random part and the position, so one random draw serves a whole response and
    a listing gives the same ids every time."""
    return f"{prefix}_{response_id.partition('_')[2]}{index:03x}"


def response_object(
    response_id: str,
    created_at: int,
    model: str,
    body: dict[str, Any],
    *,
    status: str = "completed",
    output: list[Item] | None = None,
    usage: Usage | None = None,
    incomplete: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``Response`` object, its request settings taken from ``body`` (what the client
    sent); ``usage`` None: not known yet (an event before the end)."""
    text = body.get("text")
    reasoning = body.get("reasoning")
    out: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": None if incomplete is None else {"reason": incomplete},
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": output or [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {
            "effort": reasoning.get("effort") if isinstance(reasoning, dict) else None,
            "summary": reasoning.get("summary") if isinstance(reasoning, dict) else None,
        },
        "service_tier": body.get("service_tier", "default"),
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": text if isinstance(text, dict) else {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "metadata": body.get("metadata") or {},
    }
    if usage is not None:  # an object in the reference: absent until known, not null
        out["usage"] = usage_to_responses(usage)
    for key in _ECHOED_WHEN_SENT:  # strings or numbers in the reference: absent, not null
        if body.get(key) is not None:
            out[key] = body[key]
    return out


_ECHOED_WHEN_SENT = ("user", "safety_identifier", "prompt_cache_key", "max_tool_calls")


def response_to_responses(
    response: ChatResponse,
    response_id: str,
    created_at: int,
    body: dict[str, Any],
    *,
    sealed: bool = True,
) -> dict[str, Any]:
    choice = response.choices[0]
    status, incomplete = outcome(choice.finish_reason)
    return response_object(
        response_id,
        created_at,
        response.model,
        body,
        status=status,
        output=output_items(choice.message, response_id, sealed=sealed),
        usage=response.usage,
        incomplete=incomplete,
    )


def outcome(finish: FinishReason | None) -> tuple[str, str | None]:
    """The response's ``status`` and, when incomplete, why."""
    if finish == "length":
        return "incomplete", "max_output_tokens"
    if finish == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None


def output_items(message: Message, response_id: str, *, sealed: bool = True) -> list[Item]:
    """``sealed``: the thinking came from an upstream that does not speak Responses (see
    :func:`encrypted_content`)."""
    items: list[Item] = []
    if message.thinking:
        for block in message.thinking:
            encrypted = encrypted_content(block, sealed=sealed)
            rid = item_id(response_id, "rs", len(items))
            items.append(reasoning_item(rid, block.thinking, encrypted))
    elif message.reasoning:
        items.append(reasoning_item(item_id(response_id, "rs", 0), message.reasoning))
    text = message.text()
    if text or message.refusal or not (items or message.tool_calls):
        msg = item_id(response_id, "msg", len(items))
        items.append(message_item(msg, text, refusal=message.refusal))
    for call in message.tool_calls or ():
        items.append(call_item(item_id(response_id, "fc", len(items)), call))
    return items


def encrypted_content(block: ThinkingBlock, *, sealed: bool) -> str | None:
    """A thinking block's ``encrypted_content``: a Responses upstream's own as it came
    (``sealed`` false); another upstream's signature or redacted data sealed (see
    :func:`~switchyard.doors.responses.request.seal_thinking`); None when there is nothing to
    send back (unsigned thinking)."""
    if not sealed:
        return block.signature if block.type == "thinking" else block.data
    if block.type == "thinking" and not block.signature:
        return None
    return seal_thinking(block)


def message_item(
    item_id: str, text: str, *, refusal: str | None = None, status: str = "completed"
) -> Item:
    content: list[Item] = []
    if text or not refusal:
        content.append(text_part(text))
    if refusal:
        content.append({"type": "refusal", "refusal": refusal})
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def text_part(text: str) -> Item:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def call_item(item_id: str, call: ToolCall, status: str = "completed") -> Item:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
    }


def reasoning_item(item_id: str, text: str, sealed: str | None = None) -> Item:
    item: Item = {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}] if text else [],
    }
    if sealed is not None:
        item["encrypted_content"] = sealed
    return item


def usage_to_responses(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_input_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


__all__ = [
    "call_item",
    "encrypted_content",
    "item_id",
    "message_item",
    "new_id",
    "outcome",
    "output_items",
    "reasoning_item",
    "response_object",
    "response_to_responses",
    "text_part",
    "usage_to_responses",
]
