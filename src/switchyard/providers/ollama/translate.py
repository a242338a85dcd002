"""Ollama's native chat API (``POST /api/chat``) <-> the canonical types (pure).

The request (``docs/api.md`` and ``docs/capabilities/tool-calling.mdx`` in Ollama's
repository):

- messages keep their roles (``developer`` becomes ``system``); ``content`` is the text; images
  go in the message's ``images`` as bare base64 strings, so only ``data:...;base64,`` URLs are
  accepted (an ``https://`` image is refused with ``InvalidRequest``: Ollama cannot fetch it and
  the gateway does not fetch on a caller's behalf); an assistant's reasoning goes back as
  ``thinking``;
- an assistant's ``tool_calls`` carry ``function.arguments`` as a JSON *object*: the canonical
  JSON text is parsed when sending (text that is not a JSON object is refused, naming the
  call); a tool result is ``{"role": "tool", "content", "tool_call_id", "tool_name"}``, the name
  looked up from the call it answers;
- tools have OpenAI's function shape. Ollama has no ``tool_choice``: ``none`` sends no tools;
  a named choice sends only that tool; ``required`` sends the tools as they are. Neither of the
  last two can force the model to call a tool: that is left to the model;
- ``response_format``: JSON mode is ``format: "json"``, a JSON schema is ``format: <schema>``;
- ``options``: ``temperature``, ``top_p``, ``seed``, ``stop``, ``num_predict`` (``max_tokens``),
  ``presence_penalty``, ``frequency_penalty`` over the provider's configured options; ``n``
  above 1 is refused; ``extra`` is merged last (its ``options`` into the options, every other
  key at the top level: ``think``, ``keep_alive``, ``truncate``, ...; OpenAI's
  ``stream_options`` is left out).

The reply (and each stream line): ``message.content`` is text, ``message.thinking`` reasoning,
``message.tool_calls`` whole calls. Ollama 0.12.10 and newer give each call an ``id``; for older
servers the id is ``call_<n>``, ``n`` counting the response's calls from 0. Arguments come back
as an object and are serialised with :func:`encode_arguments`. ``done_reason`` ``length`` ->
length; ``stop`` -> stop, or tool_calls when the reply calls tools (Ollama says ``stop`` then);
usage: ``prompt_eval_count`` -> input tokens (Ollama counts cached prompt tokens in it and
reports no split, so cached is 0), ``eval_count`` -> output tokens (thinking included).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from switchyard.errors import InvalidRequest, UpstreamProtocolError, protocol_error
from switchyard.providers.ollama import wire
from switchyard.providers.ollama.errors import map_error_line
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
    Tool,
    ToolCall,
    Usage,
)

# canonical field -> Ollama option
_OPTIONS = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("seed", "seed"),
    ("stop", "stop"),
    ("max_tokens", "num_predict"),
    ("presence_penalty", "presence_penalty"),
    ("frequency_penalty", "frequency_penalty"),
)


def encode_arguments(arguments: Any) -> str:
    """Tool-call arguments as the canonical JSON text: ``json.dumps`` with its default
    separators (``", "`` and ``": "``), keys in the order Ollama sent them, non-ASCII kept as
    it is. The same object always gives the same text, in plain and streamed replies alike.
    Text (a server that sends the arguments as a string) is kept as it is; null is ``{}``."""
    if arguments is None:
        return "{}"
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)


# -- canonical -> Ollama ----------------------------------------------------------------------


def request_to_ollama(
    request: ChatRequest,
    *,
    stream: bool,
    options: dict[str, Any] | None = None,
    keep_alive: str | int | None = None,
) -> dict[str, Any]:
    """The ``POST /api/chat`` body; ``options`` and ``keep_alive`` are the provider's defaults.
    Raises ``InvalidRequest`` (naming the field) for what Ollama cannot take."""
    if request.n is not None and request.n > 1:
        raise InvalidRequest("Ollama answers with one message; n must be 1", param="n")
    body: dict[str, Any] = {
        "model": request.model,
        "messages": _messages(request.messages),
        "stream": stream,
    }
    tools = _tools(request.tools or [], request.tool_choice)
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
    fmt = _format(request.response_format)
    if fmt is not None:
        body["format"] = fmt
    merged = dict(options or {})
    for field, name in _OPTIONS:
        value = getattr(request, field)
        if value is not None:
            merged[name] = value
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    for key, value in (request.extra or {}).items():
        if key == "options" and isinstance(value, dict):
            merged.update(value)
        elif key != "stream_options":  # OpenAI's stream framing: meaningless here
            body[key] = value
    if merged:
        body["options"] = merged
    return body


def _messages(messages: list[Message]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}  # tool-call id -> function name, as the history goes
    out = []
    for i, message in enumerate(messages):
        for call in message.tool_calls or ():
            names[call.id] = call.name
        out.append(_message(message, i, names))
    return out


def _message(message: Message, i: int, names: dict[str, str]) -> dict[str, Any]:
    role = "system" if message.role == "developer" else message.role
    out: dict[str, Any] = {"role": role, "content": message.text()}
    images = _images(message, i)
    if images:
        out["images"] = images
    if message.role == "assistant":
        if message.reasoning:
            out["thinking"] = message.reasoning
        if message.tool_calls:
            out["tool_calls"] = [
                _tool_call(call, i, j) for j, call in enumerate(message.tool_calls)
            ]
    if message.role == "tool" and message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
        if message.tool_call_id in names:
            out["tool_name"] = names[message.tool_call_id]
    return out


def _images(message: Message, i: int) -> list[str]:
    if not isinstance(message.content, list):
        return []
    images = []
    for j, part in enumerate(message.content):
        if isinstance(part, FilePart):
            raise InvalidRequest("Ollama takes no documents", param=f"messages[{i}].content[{j}]")
        if isinstance(part, ImagePart):
            header, comma, data = part.url.partition(",")
            if not (part.is_data_url and comma and header.endswith(";base64")):
                raise InvalidRequest(
                    "Ollama takes images only inline, as data:<type>;base64,... URLs",
                    param=f"messages[{i}].content[{j}]",
                )
            images.append(data)
    return images


def _tool_call(call: ToolCall, i: int, j: int) -> dict[str, Any]:
    try:
        arguments = orjson.loads(call.arguments) if call.arguments.strip() else {}
    except orjson.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        raise InvalidRequest(
            "Ollama needs tool-call arguments that are a JSON object",
            param=f"messages[{i}].tool_calls[{j}].arguments",
        )
    out: dict[str, Any] = {"function": {"index": j, "name": call.name, "arguments": arguments}}
    if call.id:
        out["id"] = call.id
    return out


def _tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description is not None:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def _tools(tools: list[Tool], choice: str | NamedToolChoice | None) -> list[Tool]:
    if choice == "none":
        return []
    if isinstance(choice, NamedToolChoice):
        chosen = [tool for tool in tools if tool.name == choice.name]
        if not chosen:
            raise InvalidRequest(
                f"tool_choice names {choice.name!r}, which is not among the tools",
                param="tool_choice",
            )
        return chosen
    if choice == "required" and not tools:
        raise InvalidRequest("tool_choice 'required' needs tools", param="tool_choice")
    return tools


def _format(fmt: ResponseFormat | None) -> str | dict[str, Any] | None:
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_schema" and fmt.json_schema is not None:
        if fmt.json_schema.schema_ is not None:
            return fmt.json_schema.schema_
    return "json"


# -- Ollama -> canonical ----------------------------------------------------------------------


def response_from_ollama(
    body: Any, *, model: str, response_id: str, created: int, provider: str
) -> ChatResponse:
    """A non-streamed ``/api/chat`` reply. Ollama's reply has no id, so the caller passes one;
    ``created`` is used when ``created_at`` cannot be read."""
    line = parse_line(body, provider)
    if not line.done:
        raise UpstreamProtocolError("chat reply is not done (done: false)", provider=provider)
    message = line.message or wire.ChatMessage()
    calls = [tool_call_from_ollama(call, n) for n, call in enumerate(message.tool_calls or ())]
    text = message.content or ""
    return ChatResponse(
        id=response_id,
        created=timestamp(line.created_at) or created,
        model=line.model or model,
        provider=provider,
        choices=[
            Choice(
                message=Message(
                    role="assistant",
                    content=text if text or not calls else None,
                    tool_calls=calls or None,
                    reasoning=message.thinking or None,
                ),
                finish_reason=finish_from_ollama(line.done_reason, bool(calls)),
            )
        ],
        usage=usage_from_ollama(line),
    )


def parse_line(body: Any, provider: str | None) -> wire.ChatLine:
    """One reply or stream line; an ``{"error": ...}`` one raises the error it describes."""
    if isinstance(body, dict) and "error" in body:
        raise map_error_line(body, provider)
    try:
        return wire.ChatLine.model_validate(body)
    except ValidationError as exc:
        raise protocol_error("chat reply", exc, provider) from exc


def tool_call_from_ollama(call: wire.ToolCall, n: int) -> ToolCall:
    """``n``: the call's position among the response's calls (its id when Ollama sent none)."""
    return ToolCall(
        id=call.id or f"call_{n}",
        name=call.function.name,
        arguments=encode_arguments(call.function.arguments),
    )


def finish_from_ollama(reason: str | None, has_tool_calls: bool) -> FinishReason:
    if reason == "length":
        return "length"
    return "tool_calls" if has_tool_calls else "stop"


def usage_from_ollama(line: wire.ChatLine) -> Usage:
    return Usage(input_tokens=line.prompt_eval_count or 0, output_tokens=line.eval_count or 0)


def timestamp(created_at: str | None) -> int | None:
    """Seconds since the epoch of Ollama's RFC 3339 ``created_at``; None when unreadable."""
    if not created_at:
        return None
    try:
        return int(datetime.fromisoformat(created_at).timestamp())
    except ValueError:
        return None


__all__ = [
    "encode_arguments",
    "finish_from_ollama",
    "parse_line",
    "request_to_ollama",
    "response_from_ollama",
    "timestamp",
    "tool_call_from_ollama",
    "usage_from_ollama",
]
