"""A Responses API request body -> a canonical :class:`ChatRequest` (pure).

Following OpenAI's ``POST /v1/responses`` reference:

- ``instructions`` -> a system message first; ``input`` a string -> one user message, or a
  list of items, in order:
  - messages (``type: message`` or no type) of role ``system``, ``developer``, ``user`` or
    ``assistant``, content a string or parts: ``input_text`` / ``output_text`` -> text,
    ``input_image`` (``image_url``, ``detail``) -> an image, ``input_file`` (``file_data``, a
    data: URL, or ``file_url``; ``filename``) -> a document, ``refusal`` -> the refusal (a
    ``file_id`` of OpenAI's Files API cannot be resolved by the gateway: 400);
  - ``function_call`` (``call_id``, ``name``, ``arguments``; the ``id`` and ``status`` a client
    echoes are ignored) -> a tool call of the assistant turn it belongs to (consecutive calls,
    and the assistant text before them, make one turn); ``custom_tool_call`` likewise, its
    ``input`` as ``{"input": ...}``; ``function_call_output`` / ``custom_tool_call_output``
    -> a tool message (text, image and file parts);
  - ``reasoning`` items: one the gateway itself made from an upstream's signed thinking
    (its ``encrypted_content`` carries :data:`THINKING_MARK`) goes back as that thinking block
    (Anthropic wants it back with its signature); any other (an OpenAI upstream's own) is only
    for a Responses upstream and is left out of the canonical turns;
  - every other item type (``web_search_call``, ``local_shell_call``, ``item_reference``, ...)
    is for a Responses upstream only, likewise;
- ``function`` tools -> tools; every other tool type (``web_search``, ``file_search``,
  ``computer_use_preview``, ``custom``, ``namespace``, ``mcp``, ...) is left out of the
  canonical request (:func:`hosted_tool_names` names them for the
  ``x-switchyard-dropped-tools`` header); ``tool_choice`` ``auto`` / ``none`` / ``required``
  / ``{"type": "function", "name"}`` (any other choice: the upstream's default);
  ``parallel_tool_calls``;
- ``text.format`` (``text``, ``json_object``, ``json_schema`` with ``name``, ``schema``,
  ``description``, ``strict``) -> ``response_format``; ``max_output_tokens`` ->
  ``max_tokens``; ``reasoning.effort`` -> ``reasoning``; ``temperature``, ``top_p``,
  ``user``, ``metadata``, ``stream`` as they are;
- the whole body but ``model`` and ``stream`` is kept as the request's ``format_fields``
  (format ``openai_responses``; its ``input`` already holds the stored conversation a
  ``previous_response_id`` continues, which the door put there):
  a Responses upstream gets it merged into its body unchanged, so nothing the client sent is
  lost (``input`` items with their ids and encrypted reasoning, hosted tools, ``include``,
  ``prompt_cache_key``, ``client_metadata``, ``store``, ``text.verbosity``, ...); every other
  upstream gets the canonical request only.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

import orjson
from pydantic import ValidationError

from switchyard.formats.request_fields import data_url_type
from switchyard.formats.request_fields import invalid as _invalid
from switchyard.formats.request_fields import optional_string_at as _optional_string
from switchyard.formats.request_fields import string_at as _string
from switchyard.types import (
    ChatRequest,
    JsonSchemaFormat,
    Message,
    NamedToolChoice,
    Reasoning,
    ResponseFormat,
    ThinkingBlock,
    Tool,
)

# what a reasoning item's ``encrypted_content`` starts with when the gateway made it from an
# upstream's signed thinking block (then ``sy.thinking.<signature>``) or redacted thinking
# (``sy.redacted.<data>``): the client sends it back, and the block goes back as it came
THINKING_MARK = "sy."
_THINKING = "sy.thinking."
_REDACTED = "sy.redacted."
_NOT_KEPT = frozenset({"model", "stream"})
_ROLES = frozenset({"system", "developer", "user", "assistant"})
_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
Part = dict[str, Any]  # a text, image or file part's data
Turn = dict[str, Any]  # a canonical message's data


def request_from_responses(body: dict[str, Any]) -> ChatRequest:
    """``body`` as a canonical request. Raises ``InvalidRequest`` naming the field."""
    model = body.get("model")
    if not isinstance(model, str):
        raise _invalid("model", "a string is required")
    messages: list[Turn] = []
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise _invalid("instructions", "must be a string")
        messages.append({"role": "system", "content": instructions})
    messages.extend(_turns(body.get("input")))
    if not messages:
        raise _invalid("input", "a string or a non-empty list of items is required")
    data: dict[str, Any] = {"model": model, "messages": messages}
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _invalid("tools", "must be a list")
        functions = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
        data["tools"] = [tool for tool in functions if tool is not None] or None
    if data.get("tools"):
        choice = _tool_choice(body.get("tool_choice"))
        if choice is not None:
            data["tool_choice"] = choice
    for key, name in (
        ("parallel_tool_calls", "parallel_tool_calls"),
        ("max_output_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("user", "user"),
        ("metadata", "metadata"),
        ("stream", "stream"),
    ):
        if body.get(key) is not None:
            data[name] = body[key]
    if isinstance(data.get("temperature"), int) and not isinstance(data["temperature"], bool):
        data["temperature"] = float(data["temperature"])
    if isinstance(data.get("top_p"), int) and not isinstance(data["top_p"], bool):
        data["top_p"] = float(data["top_p"])
    text = body.get("text")
    if text is not None:
        if not isinstance(text, dict):
            raise _invalid("text", "must be an object")
        data["response_format"] = _text_format(text.get("format"))
    data["reasoning"] = _reasoning(body.get("reasoning"))
    data["format_fields"] = {
        "format": "openai_responses",
        "fields": {k: v for k, v in body.items() if k not in _NOT_KEPT},
    }
    try:
        return ChatRequest.model_validate(data, strict=True)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        raise _invalid(_body_name(where), error["msg"].lower()) from None


def input_items(value: Any) -> list[dict[str, Any]]:
    """``input`` as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("input", "must be a string or a list of items")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _invalid(f"input[{i}]", "an item is an object")
    return value


def input_messages(value: Any) -> list[Message]:
    """The canonical turns of ``input`` (see the module's description)."""
    return [Message.model_validate(turn, strict=True) for turn in _turns(value)]


def _turns(value: Any) -> list[Turn]:
    """The turns of ``input`` as the canonical messages' data (validated once, with the whole
    request: one pass instead of one per message)."""
    out: list[Turn] = []
    assistant: Turn | None = None  # the assistant turn being put together
    for i, item in enumerate(input_items(value)):
        where = f"input[{i}]"
        kind = item.get("type", "message")
        if kind == "message":
            message = _message(item, where)
            if message["role"] == "assistant":
                if assistant is not None and (
                    assistant.get("tool_calls") or assistant.get("content")
                ):
                    assistant = None  # a new turn after the calls
                if assistant is None:
                    out.append(message)
                    assistant = message
                else:  # after its reasoning
                    assistant.update(message)
                continue
            out.append(message)
            assistant = None
        elif kind in ("function_call", "custom_tool_call"):
            if assistant is None:
                assistant = {"role": "assistant"}
                out.append(assistant)
            assistant.setdefault("tool_calls", []).append(_call(item, kind, where))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            out.append(_call_output(item, where))
            assistant = None
        elif kind == "reasoning":
            block = _thinking(item)
            if block is None:
                continue
            if assistant is None or _answered(assistant):
                assistant = {"role": "assistant"}
                out.append(assistant)
            assistant.setdefault("thinking", []).append(block)
        # any other item is for a Responses upstream only (kept in format_fields)
    return [
        m
        for m in out
        if m["role"] != "assistant" or m.get("content") or m.get("tool_calls") or m.get("refusal")
    ]


def _answered(turn: Turn) -> bool:
    """Whether an assistant turn has its text or calls (what follows starts a new turn)."""
    return bool(turn.get("tool_calls") or turn.get("content"))


def hosted_tool_names(body: dict[str, Any]) -> list[str]:
    """The ``type`` (or ``name``) of every tool that is not a function: what an upstream that
    does not speak Responses itself is not given."""
    tools = body.get("tools")
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, dict) and tool.get("type") != "function":
            name = tool.get("type")
            if name == "custom" or not isinstance(name, str):
                name = tool.get("name") if isinstance(tool.get("name"), str) else "custom"
            names.append(str(name)[:64])
    return list(dict.fromkeys(names))


# -- items ------------------------------------------------------------------------------------


def _message(item: dict[str, Any], where: str) -> Turn:
    role = item.get("role")
    if role not in _ROLES:
        raise _invalid(f"{where}.role", "must be 'system', 'developer', 'user' or 'assistant'")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise _invalid(f"{where}.content", "must be a string or a list of content parts")
    parts: list[Part] = []
    refusal: str | None = None
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        if not isinstance(part, dict):
            raise _invalid(at, "a content part is an object with a type")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "summary_text"):
            parts.append({"type": "text", "text": _string(part, "text", at)})
        elif kind == "input_image":
            parts.append(_image(part, at))
        elif kind == "input_file":
            parts.append(_file(part, at))
        elif kind == "refusal":
            refusal = _string(part, "refusal", at)
        else:
            raise _invalid(f"{at}.type", f"{kind!r} parts are not supported")
    turn: Turn = {"role": role}
    if all(p["type"] == "text" for p in parts) and (role != "user" or len(parts) == 1):
        turn["content"] = "".join(p["text"] for p in parts) if parts else None
    else:
        turn["content"] = parts
    if refusal is not None:
        turn["refusal"] = refusal
    return turn


def _image(part: dict[str, Any], where: str) -> Part:
    url = part.get("image_url")
    if not isinstance(url, str):
        raise _invalid(f"{where}.image_url", "an image URL (or a data: URL) is required")
    detail = part.get("detail")
    if detail not in (None, "auto", "low", "high"):
        raise _invalid(f"{where}.detail", "must be 'auto', 'low' or 'high'")
    return {"type": "image", "url": url, "detail": detail}


def _file(part: dict[str, Any], where: str) -> Part:
    """An ``input_file``: its ``file_data`` (a data: URL) or its ``file_url`` (whose type is
    guessed from ``filename`` or the URL's path, a PDF when neither says)."""
    if part.get("file_id") is not None:
        raise _invalid(
            f"{where}.file_id",
            "uploaded files cannot be resolved by the gateway; send the file as 'file_data' "
            "(data:application/pdf;base64,...) or 'file_url'",
        )
    filename = _optional_string(part, "filename", where)
    data, url = part.get("file_data"), part.get("file_url")
    if data is not None:
        mime_type = data_url_type(data) if isinstance(data, str) else None
        if mime_type is None:
            raise _invalid(f"{where}.file_data", "must be a data URL (data:<type>;base64,...)")
        return {"type": "file", "url": data, "mime_type": mime_type, "filename": filename}
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise _invalid(f"{where}.file_url", "file_data or an http(s) file_url is required")
    guessed, _ = mimetypes.guess_type(filename or urlsplit(url).path)
    mime_type = guessed or "application/pdf"
    return {"type": "file", "url": url, "mime_type": mime_type, "filename": filename}


def _call(item: dict[str, Any], kind: str, where: str) -> dict[str, str]:
    if kind == "custom_tool_call":
        arguments = orjson.dumps({"input": _string(item, "input", where)}).decode()
    else:
        arguments = _string(item, "arguments", where)
    return {
        "id": _string(item, "call_id", where),
        "name": _string(item, "name", where),
        "arguments": arguments,
    }


def _call_output(item: dict[str, Any], where: str) -> Turn:
    output = item.get("output")
    content: str | list[Part]
    if isinstance(output, str):
        content = output
    elif isinstance(output, list):
        content = []
        for j, part in enumerate(output):
            at = f"{where}.output[{j}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in ("input_text", "output_text"):
                content.append({"type": "text", "text": _string(part, "text", at)})
            elif kind == "input_image":
                content.append(_image(part, at))
            elif kind == "input_file":
                content.append(_file(part, at))
            else:
                raise _invalid(f"{at}.type", "must be 'input_text', 'input_image' or 'input_file'")
    else:
        raise _invalid(f"{where}.output", "must be a string or a list of content parts")
    return {"role": "tool", "tool_call_id": _string(item, "call_id", where), "content": content}


def _thinking(item: dict[str, Any]) -> dict[str, Any] | None:
    """The thinking block a reasoning item the gateway made stands for (None: not one)."""
    sealed = item.get("encrypted_content")
    if not isinstance(sealed, str) or not sealed.startswith(THINKING_MARK):
        return None
    if sealed.startswith(_REDACTED):
        return {"type": "redacted_thinking", "data": sealed[len(_REDACTED) :]}
    if not sealed.startswith(_THINKING):
        return None
    summary = item.get("summary")
    texts = [
        p["text"]
        for p in (summary if isinstance(summary, list) else ())
        if isinstance(p, dict) and isinstance(p.get("text"), str)
    ]
    return {
        "type": "thinking",
        "thinking": "".join(texts),
        "signature": sealed[len(_THINKING) :] or None,
    }


def seal_thinking(block: ThinkingBlock) -> str:
    """A thinking block's ``encrypted_content`` (see :data:`THINKING_MARK`)."""
    if block.type == "redacted_thinking":
        return _REDACTED + (block.data or "")
    return _THINKING + (block.signature or "")


# -- options ----------------------------------------------------------------------------------


def _tool(tool: Any, where: str) -> Tool | None:
    if not isinstance(tool, dict):
        raise _invalid(where, "must be an object")
    if tool.get("type") != "function":
        return None  # hosted: for a Responses upstream only
    parameters = tool.get("parameters")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    if not isinstance(parameters, dict):
        raise _invalid(f"{where}.parameters", "must be a JSON schema object")
    description = tool.get("description")
    if description is not None and not isinstance(description, str):
        raise _invalid(f"{where}.description", "must be a string")
    strict = tool.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise _invalid(f"{where}.strict", "must be a boolean")
    return Tool(
        name=_string(tool, "name", where),
        description=description,
        parameters=parameters,
        strict=strict,
    )


def _tool_choice(choice: Any) -> str | NamedToolChoice | None:
    if choice is None:
        return None
    if choice in ("auto", "none", "required"):
        return str(choice)
    if isinstance(choice, dict) and choice.get("type") == "function":
        return NamedToolChoice(name=_string(choice, "name", "tool_choice"))
    if isinstance(choice, str):
        raise _invalid("tool_choice", "must be 'auto', 'none', 'required' or an object")
    return None  # a hosted tool or allowed_tools: the upstream's default


def _text_format(fmt: Any) -> ResponseFormat | None:
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        raise _invalid("text.format", "must be an object")
    kind = fmt.get("type")
    if kind in ("text", "json_object"):
        return ResponseFormat(type=kind)
    if kind != "json_schema":
        raise _invalid("text.format.type", "must be 'text', 'json_object' or 'json_schema'")
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise _invalid("text.format.schema", "a JSON schema object is required")
    description, strict = fmt.get("description"), fmt.get("strict")
    if description is not None and not isinstance(description, str):
        raise _invalid("text.format.description", "must be a string")
    if strict is not None and not isinstance(strict, bool):
        raise _invalid("text.format.strict", "must be a boolean")
    return ResponseFormat(
        type="json_schema",
        json_schema=JsonSchemaFormat(
            name=_string(fmt, "name", "text.format"),
            schema_=schema,
            description=description,
            strict=strict,
        ),
    )


def _reasoning(value: Any) -> Reasoning | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid("reasoning", "must be an object")
    effort = value.get("effort")
    if effort is None:
        return None
    if effort not in _EFFORTS:
        raise _invalid("reasoning.effort", f"must be one of {', '.join(sorted(_EFFORTS))}")
    return Reasoning(effort=effort)


def _body_name(where: str) -> str:
    """A canonical field's name as the body calls it."""
    return {"max_tokens": "max_output_tokens"}.get(where, where)


__all__ = [
    "THINKING_MARK",
    "hosted_tool_names",
    "input_items",
    "input_messages",
    "request_from_responses",
    "seal_thinking",
]
