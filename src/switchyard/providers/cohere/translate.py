"""Cohere's v2 Chat API <-> the canonical types (pure: no I/O, no clock).

The request (``POST /v2/chat``, https://docs.cohere.com/reference/chat):

- messages keep their roles (``developer`` becomes ``system``); user content is a string or
  ``text`` / ``image_url`` parts (data URLs and web URLs, as Cohere's vision models take them;
  images anywhere but in user messages are refused, and documents, which Cohere's chat does
  not take, everywhere); an assistant turn carries ``tool_calls``
  (arguments as the exact JSON text) and, with them, its reasoning as ``tool_plan`` (reasoning
  of a turn without tool calls is not sent back); a tool result is
  ``{"role": "tool", "tool_call_id", "content"}`` with the result's text;
- tools have OpenAI's ``{"type": "function", "function": {...}}`` shape; ``strict_tools`` is set
  when any tool asks for strictness;
- ``tool_choice``: ``required`` -> ``REQUIRED``, ``none`` -> ``NONE``, ``auto`` -> not sent.
  Cohere has no choice of a named tool, so a named choice sends only that tool, with
  ``REQUIRED``: the model must call it;
- JSON mode is ``response_format: {"type": "json_object"}``, a JSON schema rides in its
  ``json_schema``; ``stop`` -> ``stop_sequences``, ``top_p`` -> ``p``; ``max_tokens``,
  ``temperature``, ``seed`` and the penalties keep their names; ``n`` above 1 is refused (Cohere
  answers with one message); ``parallel_tool_calls``, ``user`` and ``metadata`` have no Cohere
  counterpart and logprobs no place in the canonical reply, so none of them is sent; ``extra``
  is merged last, verbatim (``k``, ``thinking``, ``safety_mode``, ``documents``, ...), but for
  OpenAI's ``stream_options``, which is about OpenAI's stream framing.

The reply: ``message.content[]`` text items are the answer, ``thinking`` items and ``tool_plan``
the reasoning; ``finish_reason`` COMPLETE / STOP_SEQUENCE -> stop, MAX_TOKENS -> length,
TOOL_CALL -> tool_calls; ERROR and TIMEOUT raise (the generation failed: another deployment may
do better); usage from ``usage.tokens`` (see :class:`~.wire.CohereUsage`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from switchyard.errors import InvalidRequest, Timeout, UpstreamProtocolError, protocol_error
from switchyard.providers.cohere import wire
from switchyard.providers.cohere.errors import map_stream_error
from switchyard.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    FilePart,
    FinishReason,
    ImagePart,
    Message,
    NamedToolChoice,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
)

_FINISH: dict[str, FinishReason] = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
}
# canonical field -> Cohere's name, for the scalars sent when set
_SCALARS = (
    ("max_tokens", "max_tokens"),
    ("temperature", "temperature"),
    ("top_p", "p"),
    ("seed", "seed"),
    ("stop", "stop_sequences"),
    ("presence_penalty", "presence_penalty"),
    ("frequency_penalty", "frequency_penalty"),
)


# -- canonical -> Cohere ----------------------------------------------------------------------


def request_to_cohere(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The ``POST /v2/chat`` body; raises ``InvalidRequest`` (naming the field) for what Cohere
    cannot express."""
    if request.n is not None and request.n > 1:
        raise InvalidRequest("Cohere answers with one message; n must be 1", param="n")
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(message, i) for i, message in enumerate(request.messages)],
        "stream": stream,
    }
    tools, choice = _tools_and_choice(request.tools or [], request.tool_choice)
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
        if any(tool.strict for tool in tools):
            body["strict_tools"] = True
    if choice is not None:
        body["tool_choice"] = choice
    response_format = _response_format(request.response_format)
    if response_format is not None:
        body["response_format"] = response_format
    for field, name in _SCALARS:
        value = getattr(request, field)
        if value is not None:
            body[name] = value
    for key, value in (request.extra or {}).items():
        if key != "stream_options":  # OpenAI's stream framing: meaningless here
            body[key] = value
    return body


def _message(message: Message, i: int) -> dict[str, Any]:
    role = message.role
    if role == "user":
        return {"role": "user", "content": _user_content(message)}
    _refuse_images(message, i)
    if role in ("system", "developer"):
        return {"role": "system", "content": message.text()}
    if role == "tool":
        if not message.tool_call_id:
            raise InvalidRequest(
                "a tool message needs the id of the call it answers",
                param=f"messages[{i}].tool_call_id",
            )
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text()}
    out: dict[str, Any] = {"role": "assistant"}
    text = message.text()
    if message.tool_calls:
        out["tool_calls"] = [_tool_call(call) for call in message.tool_calls]
        if message.reasoning:
            out["tool_plan"] = message.reasoning
        if text:
            out["content"] = text
    else:
        out["content"] = text
    return out


def _user_content(message: Message) -> str | list[dict[str, Any]]:
    if not isinstance(message.content, list):
        return message.content or ""
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, FilePart):
            raise InvalidRequest("Cohere's chat takes no documents", param="messages")
        else:
            image: dict[str, Any] = {"url": part.url}
            if part.detail is not None:
                image["detail"] = part.detail
            parts.append({"type": "image_url", "image_url": image})
    return parts


def _refuse_images(message: Message, i: int) -> None:
    if isinstance(message.content, list) and any(
        isinstance(part, ImagePart) for part in message.content
    ):
        raise InvalidRequest(
            f"Cohere takes images only in user messages, not in a {message.role!r} message",
            param=f"messages[{i}].content",
        )


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments or "{}"},
    }


def _tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description is not None:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def _tools_and_choice(
    tools: list[Tool], choice: str | NamedToolChoice | None
) -> tuple[list[Tool], str | None]:
    if isinstance(choice, NamedToolChoice):
        chosen = [tool for tool in tools if tool.name == choice.name]
        if not chosen:
            raise InvalidRequest(
                f"tool_choice names {choice.name!r}, which is not among the tools",
                param="tool_choice",
            )
        return chosen, "REQUIRED"
    if choice == "required":
        if not tools:
            raise InvalidRequest("tool_choice 'required' needs tools", param="tool_choice")
        return tools, "REQUIRED"
    if choice == "none" and tools:
        return tools, "NONE"
    return tools, None


def _response_format(fmt: ResponseFormat | None) -> dict[str, Any] | None:
    if fmt is None or fmt.type == "text":
        return None
    out: dict[str, Any] = {"type": "json_object"}
    if fmt.type == "json_schema" and fmt.json_schema is not None:
        if fmt.json_schema.schema_ is not None:
            out["json_schema"] = fmt.json_schema.schema_
    return out


# -- Cohere -> canonical ----------------------------------------------------------------------


def response_from_cohere(body: Any, *, model: str, created: int, provider: str) -> ChatResponse:
    """A ``/v2/chat`` reply as a canonical response. Cohere's reply names neither the model nor
    a time, so the caller passes the model it asked for and the time it got the answer."""
    try:
        reply = wire.ChatReply.model_validate(body)
    except ValidationError as exc:
        raise protocol_error("chat reply", exc, provider) from exc
    message = reply.message
    calls = [tool_call_from_cohere(call, provider) for call in message.tool_calls or ()]
    texts = [item.text for item in message.content or () if item.type == "text" and item.text]
    thoughts = [
        item.thinking for item in message.content or () if item.type == "thinking" and item.thinking
    ]
    if message.tool_plan:
        thoughts.append(message.tool_plan)
    finish = finish_from_cohere(reply.finish_reason, bool(calls), None, provider)
    return ChatResponse(
        id=reply.id,
        created=created,
        model=model,
        provider=provider,
        choices=[
            Choice(
                message=Message(
                    role="assistant",
                    content="".join(texts) if texts or not calls else None,
                    tool_calls=calls or None,
                    reasoning="".join(thoughts) or None,
                ),
                finish_reason=finish,
            )
        ],
        usage=(reply.usage or wire.CohereUsage()).canonical(),
    )


def tool_call_from_cohere(call: wire.ToolCall, provider: str | None) -> ToolCall:
    function = call.function
    if call.type != "function" or function is None or not function.name or not call.id:
        raise UpstreamProtocolError(
            "malformed tool call from upstream: it needs an id and a function name",
            provider=provider,
        )
    return ToolCall(id=call.id, name=function.name, arguments=function.arguments or "")


def finish_from_cohere(
    reason: str | None, has_tool_calls: bool, error: str | None, provider: str | None
) -> FinishReason:
    """Cohere's ``finish_reason`` on OpenAI's set; ERROR and TIMEOUT raise."""
    if reason == "ERROR":
        raise map_stream_error(error, provider)
    if reason == "TIMEOUT":
        raise Timeout(error or "the upstream generation timed out", provider=provider)
    finish = _FINISH.get(reason or "", "stop")
    return "tool_calls" if has_tool_calls and finish == "stop" else finish


__all__ = [
    "finish_from_cohere",
    "request_to_cohere",
    "response_from_cohere",
    "tool_call_from_cohere",
]
