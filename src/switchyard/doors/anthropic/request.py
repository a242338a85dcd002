"""A caller's Anthropic ``POST /v1/messages`` body -> the canonical :class:`ChatRequest` (pure).

Following Anthropic's Messages API reference, checked while translated so an error names the
caller's own path (``messages[1].content[0].source.data``):

- ``system`` (a string or text blocks) is the first message, role ``system``; a turn of role
  ``system`` inside ``messages`` (Claude Code sends them) is merged into it, in order;
- a ``user`` turn's ``tool_result`` blocks become ``tool`` messages (``tool_use_id`` ->
  ``tool_call_id``; text, image and document content), then its text, image and document
  blocks one ``user`` message; an ``assistant`` turn's text blocks are its content, its ``tool_use``
  blocks tool calls (``input`` as JSON text), its ``thinking`` / ``redacted_thinking`` blocks
  ``Message.thinking`` (signatures kept) and their text ``Message.reasoning``;
- images: a ``base64`` source becomes a ``data:`` URL, a ``url`` source its URL;
- documents (``FilePart``): a ``base64`` PDF source becomes a ``data:application/pdf`` URL, a
  ``url`` source its URL (a PDF's), a ``text`` source a ``text/plain`` document (its text in
  base64, so an Anthropic upstream gets the same ``text`` source back); ``title`` ->
  ``filename``, ``context`` and ``citations`` kept for an Anthropic upstream; a ``file`` or
  ``content`` source is refused (the gateway cannot resolve a Files API id);
- ``cache_control`` on a block, a tool or a tool result is kept on the canonical part, tool,
  tool call or tool message (the ``anthropic`` adapter puts it back; others ignore it);
- tools: ``input_schema`` -> parameters; a server tool (one with a ``type``, such as
  ``web_search_20250305``) or a tool with keys the canonical tool has no place for
  (``defer_loading``, ``input_examples``, ``strict``, ...) makes the request keep its raw
  ``tools`` in ``format_fields``: an Anthropic upstream gets them as they came, the others
  get the custom tools only;
  ``tool_choice`` auto / any / tool / none (``disable_parallel_tool_use`` ->
  ``parallel_tool_calls: false``); ``stop_sequences`` -> ``stop``; ``metadata.user_id`` ->
  ``user`` (one longer than OpenAI's 64 characters, such as Claude Code's, as its SHA-256
  hex digest, a stable 64-character id, while ``metadata`` goes whole to an Anthropic
  upstream through ``format_fields``); ``max_tokens``, ``temperature``, ``top_p``,
  ``stream`` as they are;
- ``thinking`` (``enabled`` with ``budget_tokens``, ``adaptive``, ``disabled``) and
  ``output_config.effort`` -> ``reasoning``; ``output_config.format`` (or ``output_format``)
  of type ``json_schema`` -> ``response_format``: for the upstreams that are not Anthropic;
- ``switchyard``: the gateway's extension, ``{"template": {"name", "version"?, "variables"?}}``
  (a prompt template rendered before the turns; then ``messages`` may be empty);
- every other top-level key (``thinking``, ``output_config``, ``context_management``,
  ``top_k``, a top-level ``cache_control``, ``service_tier``, ...) is kept as the request's
  ``format_fields`` (``thinking`` and ``output_config`` too), with the caller's
  ``anthropic-beta`` header: sent as they are to an Anthropic upstream, left out for the
  others.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from switchyard.formats.request_fields import invalid as _invalid
from switchyard.formats.request_fields import optional_string_at as _optional_string
from switchyard.formats.request_fields import string_at as _string
from switchyard.formats.template_ref import template_ref
from switchyard.providers.anthropic.translate import tool_choice_from_anthropic
from switchyard.types import (
    ChatRequest,
    FilePart,
    FormatFields,
    ImagePart,
    JsonSchemaFormat,
    Message,
    Reasoning,
    ResponseFormat,
    TemplateRef,
    TextPart,
    ThinkingBlock,
    Tool,
    ToolCall,
)

_CANONICAL = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "metadata",
        "switchyard",  # the gateway's own controls, never sent upstream
    }
)
Part = TextPart | ImagePart | FilePart
# the longest ``user`` OpenAI takes; a longer ``metadata.user_id`` becomes its SHA-256 digest
MAX_USER = 64
# the keys of a custom tool the canonical Tool holds; a tool with any other (defer_loading,
# input_examples, strict, ...) makes the request carry its raw tools for an Anthropic upstream
_TOOL_KEYS = frozenset({"name", "description", "input_schema", "cache_control", "type"})
Effort = Literal["none", "low", "medium", "high", "xhigh"]
_EFFORTS: dict[str, Effort] = {
    "low": "low",
    "medium": "medium",
    "high": "high",
    "max": "xhigh",
}


def request_from_anthropic(
    body: dict[str, Any], *, count_only: bool = False, beta: str | None = None
) -> ChatRequest:
    """``body`` as a canonical request; ``count_only`` for ``/v1/messages/count_tokens``,
    whose body has no ``max_tokens``; ``beta``: the request's ``anthropic-beta`` header, for
    an Anthropic upstream. Raises ``InvalidRequest`` naming the field."""
    model = body.get("model")
    if not isinstance(model, str):
        raise _invalid("model", "a string is required")
    data: dict[str, Any] = {"model": model}
    if not count_only:
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise _invalid("max_tokens", "an integer of at least 1 is required")
        data["max_tokens"] = max_tokens
    system: list[Part] = []
    if body.get("system") is not None:
        system.extend(_system(body["system"]))
    controls = body.get("switchyard")
    if controls is not None:
        data["template"] = _gateway_controls(controls)
    turns = body.get("messages")
    if turns is None and controls is not None:
        turns = []  # a template's messages are the conversation
    if not isinstance(turns, list) or not (turns or controls is not None):
        raise _invalid("messages", "a non-empty list of turns is required")
    messages: list[Message] = []
    for i, turn in enumerate(turns):
        if isinstance(turn, dict) and turn.get("role") == "system":  # merged into the prompt
            system.extend(_system(turn.get("content"), f"messages[{i}].content"))
        else:
            messages.extend(_turn(turn, f"messages[{i}]"))
    if not messages and controls is None:
        raise _invalid("messages", "a user or assistant turn is required")
    if system:
        messages.insert(0, _system_message(system))
    data["messages"] = messages
    native = {k: v for k, v in body.items() if k not in _CANONICAL}
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _invalid("tools", "must be a list")
        described = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
        data["tools"] = [tool for tool in described if tool is not None] or None
        if any(_raw_only(tool) for tool in tools):
            native["tools"] = tools  # server tools, defer_loading, ...: as they came
    choice = body.get("tool_choice")
    if choice is not None:
        if not isinstance(choice, dict):
            raise _invalid("tool_choice", "must be an object")
        data["tool_choice"], data["parallel_tool_calls"] = tool_choice_from_anthropic(choice)
    stop = body.get("stop_sequences")
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise _invalid("stop_sequences", "must be a list of strings")
        data["stop"] = stop or None
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise _invalid("metadata", "must be an object")
        user = metadata.get("user_id")
        if isinstance(user, str) and len(user) > MAX_USER:  # Claude Code's: kept whole for
            native["metadata"] = metadata  # an Anthropic upstream, a digest for the others
            user = hashlib.sha256(user.encode()).hexdigest()
        data["user"] = user
    for key in ("temperature", "top_p", "stream"):
        if body.get(key) is not None:
            data[key] = body[key]
    output = body.get("output_config")
    if output is not None and not isinstance(output, dict):
        raise _invalid("output_config", "must be an object")
    data["reasoning"] = _reasoning(body.get("thinking"), (output or {}).get("effort"))
    schema = _output_schema(output, body.get("output_format"))
    if schema is not None:
        data["response_format"] = schema
    if native or beta:
        headers = {"anthropic-beta": beta} if beta else {}
        data["format_fields"] = FormatFields(format="anthropic", fields=native, headers=headers)
    try:
        return ChatRequest.model_validate(data, strict=True)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        raise _invalid(where, error["msg"].lower()) from None


# -- turns ------------------------------------------------------------------------------------


def _gateway_controls(value: Any) -> TemplateRef:
    """``"switchyard": {"template": {...}}``, the gateway's extension of the Anthropic body
    (a prompt template to render before the turns; nothing else yet)."""
    if not isinstance(value, dict) or set(value) != {"template"}:
        raise _invalid("switchyard", "must be an object with a 'template' (and nothing else)")
    return template_ref(value["template"], "switchyard.template")


def _system(system: Any, where: str = "system") -> list[Part]:
    """The text blocks of a system prompt (top-level ``system``, or a ``system`` turn's
    content): a string or a list of text blocks."""
    if isinstance(system, str):
        return [TextPart(text=system)] if system else []
    if not isinstance(system, list):
        raise _invalid(where, "must be a string or a list of text blocks")
    parts: list[Part] = []
    for j, block in enumerate(system):
        at = f"{where}[{j}]"
        if not isinstance(block, dict) or block.get("type") != "text":
            raise _invalid(at, "the system prompt takes text blocks only")
        parts.append(_text(block, at))
    return parts


def _system_message(parts: list[Part]) -> Message:
    """One system message: a plain string when it is one block without a cache marker."""
    only = parts[0]
    if len(parts) == 1 and isinstance(only, TextPart) and only.cache_control is None:
        return Message(role="system", content=only.text)
    return Message(role="system", content=list(parts))


# -- thinking, effort and structured output -----------------------------------------------------


def _reasoning(thinking: Any, effort: Any) -> Reasoning | None:
    """``thinking`` and ``output_config.effort`` as the canonical reasoning knob, for the
    upstreams that are not Anthropic (an Anthropic upstream gets both as they came):
    ``enabled`` -> its ``budget_tokens``; ``adaptive`` -> the effort alone (none: the
    upstream's default); ``disabled`` -> effort ``none``; effort ``max`` -> ``xhigh``."""
    if effort is not None and effort not in _EFFORTS:
        raise _invalid("output_config.effort", "must be 'low', 'medium', 'high' or 'max'")
    level: Effort | None = _EFFORTS.get(effort) if isinstance(effort, str) else None
    budget: int | None = None
    if thinking is not None:
        if not isinstance(thinking, dict):
            raise _invalid("thinking", "must be an object")
        kind = thinking.get("type")
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
                raise _invalid("thinking.budget_tokens", "an integer of at least 1 is required")
        elif kind == "disabled":
            level = "none"
        elif kind != "adaptive":
            raise _invalid("thinking.type", "must be 'enabled', 'adaptive' or 'disabled'")
        display = thinking.get("display")
        if display is not None and not isinstance(display, str):
            raise _invalid("thinking.display", "must be a string")
    if level is None and budget is None:
        return None
    return Reasoning(effort=level, budget_tokens=budget)


def _output_schema(output: dict[str, Any] | None, legacy: Any) -> ResponseFormat | None:
    """``output_config.format`` (or the older top-level ``output_format``) of type
    ``json_schema`` as a JSON-schema response format, for the upstreams that are not
    Anthropic."""
    fmt, where = (output or {}).get("format"), "output_config.format"
    if fmt is None:
        fmt, where = legacy, "output_format"
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise _invalid(f"{where}.type", "must be 'json_schema'")
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise _invalid(f"{where}.schema", "a JSON schema object is required")
    return ResponseFormat(
        type="json_schema", json_schema=JsonSchemaFormat(name="output", schema_=schema)
    )


def _turn(turn: Any, where: str) -> list[Message]:
    if not isinstance(turn, dict):
        raise _invalid(where, "must be an object with role and content")
    role, content = turn.get("role"), turn.get("content")
    if role not in ("user", "assistant"):
        raise _invalid(f"{where}.role", "must be 'user', 'assistant' or 'system'")
    if isinstance(content, str):
        return [Message(role=role, content=content)]
    if not isinstance(content, list):
        raise _invalid(f"{where}.content", "must be a string or a list of content blocks")
    if role == "assistant":
        return [_assistant(content, f"{where}.content")]
    return _user(content, f"{where}.content")


def _user(blocks: list[Any], where: str) -> list[Message]:
    """Tool results first (as Anthropic wants them in a turn), then the rest as one message."""
    out: list[Message] = []
    parts: list[Part] = []
    for j, block in enumerate(blocks):
        at = f"{where}[{j}]"
        kind = _kind(block, at)
        if kind == "tool_result":
            out.append(_tool_result(block, at))
        else:
            parts.append(_part(block, kind, at, "in a user turn"))
    if parts:
        out.append(Message(role="user", content=parts))
    return out


def _assistant(blocks: list[Any], where: str) -> Message:
    parts: list[Part] = []
    calls: list[ToolCall] = []
    thinking: list[ThinkingBlock] = []
    for j, block in enumerate(blocks):
        at = f"{where}[{j}]"
        kind = _kind(block, at)
        if kind == "text":
            parts.append(_text(block, at))
        elif kind == "tool_use":
            calls.append(_tool_use(block, at))
        elif kind == "thinking":
            thought = _string(block, "thinking", at)
            signature = block.get("signature")
            if signature is not None and not isinstance(signature, str):
                raise _invalid(f"{at}.signature", "must be a string")
            thinking.append(ThinkingBlock(thinking=thought, signature=signature))
        elif kind == "redacted_thinking":
            data = _string(block, "data", at)
            thinking.append(ThinkingBlock(type="redacted_thinking", data=data))
        else:
            raise _invalid(f"{at}.type", f"{kind!r} blocks are not supported in an assistant turn")
    reasoning = "".join(t.thinking for t in thinking if t.type == "thinking")
    return Message(
        role="assistant",
        content=parts or None,
        tool_calls=calls or None,
        thinking=thinking or None,
        reasoning=reasoning or None,
    )


# -- blocks -----------------------------------------------------------------------------------


def _kind(block: Any, where: str) -> str:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise _invalid(f"{where}.type", "a content block is an object with a type")
    kind: str = block["type"]
    return kind


def _part(block: dict[str, Any], kind: str, where: str, context: str) -> Part:
    """A text, image or document block; any other kind is refused, naming where it stood."""
    if kind == "text":
        return _text(block, where)
    if kind == "image":
        return _image(block, where)
    if kind == "document":
        return _document(block, where)
    raise _invalid(f"{where}.type", f"{kind!r} blocks are not supported {context}")


def _text(block: dict[str, Any], where: str) -> TextPart:
    return TextPart(text=_string(block, "text", where), cache_control=_marker(block, where))


def _image(block: dict[str, Any], where: str) -> ImagePart:
    source = block.get("source")
    if not isinstance(source, dict):
        raise _invalid(f"{where}.source", "an image needs a source object")
    kind = source.get("type")
    at = f"{where}.source"
    if kind == "base64":
        media_type = _string(source, "media_type", at)
        url = f"data:{media_type};base64,{_string(source, 'data', at)}"
    elif kind == "url":
        url = _string(source, "url", at)
        if not url.startswith(("https://", "http://")):
            raise _invalid(f"{at}.url", "must be an http(s) URL")
    else:
        raise _invalid(f"{at}.type", "must be 'base64' or 'url'")
    return ImagePart(url=url, cache_control=_marker(block, where))


def _document(block: dict[str, Any], where: str) -> FilePart:
    source = block.get("source")
    at = f"{where}.source"
    if not isinstance(source, dict):
        raise _invalid(at, "a document needs a source object")
    kind = source.get("type")
    if kind == "base64":
        media_type = _string(source, "media_type", at)
        if media_type != "application/pdf":
            raise _invalid(f"{at}.media_type", "must be 'application/pdf'")
        url = f"data:{media_type};base64,{_string(source, 'data', at)}"
    elif kind == "url":
        media_type, url = "application/pdf", _string(source, "url", at)
        if not url.startswith(("https://", "http://")):
            raise _invalid(f"{at}.url", "must be an http(s) URL")
    elif kind == "text":
        media_type = _string(source, "media_type", at)
        if media_type != "text/plain":
            raise _invalid(f"{at}.media_type", "must be 'text/plain'")
        text = _string(source, "data", at).encode()
        url = f"data:{media_type};base64,{base64.b64encode(text).decode()}"
    else:
        raise _invalid(
            f"{at}.type",
            "must be 'base64', 'url' or 'text' (the gateway cannot resolve file ids or "
            "content sources)",
        )
    citations = block.get("citations")
    if citations is not None and not isinstance(citations, dict):
        raise _invalid(f"{where}.citations", "must be an object")
    return FilePart(
        url=url,
        mime_type=media_type,
        filename=_optional_string(block, "title", where),
        context=_optional_string(block, "context", where),
        citations=citations,
        cache_control=_marker(block, where),
    )


def _tool_use(block: dict[str, Any], where: str) -> ToolCall:
    arguments = block.get("input", {})
    if not isinstance(arguments, dict):
        raise _invalid(f"{where}.input", "must be an object")
    return ToolCall(
        id=_string(block, "id", where),
        name=_string(block, "name", where),
        arguments=orjson.dumps(arguments).decode(),
        cache_control=_marker(block, where),
    )


def _tool_result(block: dict[str, Any], where: str) -> Message:
    content = block.get("content")
    parts: str | list[Part] | None
    if content is None or isinstance(content, str):
        parts = content
    elif isinstance(content, list):
        parts = []
        for k, inner in enumerate(content):
            at = f"{where}.content[{k}]"
            kind = _kind(inner, at)
            parts.append(_part(inner, kind, at, "in a tool result"))
    else:
        raise _invalid(f"{where}.content", "must be a string or a list of blocks")
    is_error = block.get("is_error")
    if is_error is not None and not isinstance(is_error, bool):
        raise _invalid(f"{where}.is_error", "must be a boolean")
    return Message(
        role="tool",
        tool_call_id=_string(block, "tool_use_id", where),
        content=parts,
        cache_control=_marker(block, where),
        is_error=is_error,
    )


def _tool(tool: Any, where: str) -> Tool | None:
    """A custom tool in canonical terms; None for a server tool (one with a ``type`` of its
    own, such as ``web_search_20250305``), which only an Anthropic upstream can run: it goes
    there with the request's raw tools and is left out for every other upstream."""
    if not isinstance(tool, dict):
        raise _invalid(where, "must be an object")
    kind = tool.get("type")
    if kind is not None and kind != "custom":
        if not isinstance(kind, str):
            raise _invalid(f"{where}.type", "must be a string")
        return None
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise _invalid(f"{where}.input_schema", "a JSON schema object is required")
    description = tool.get("description")
    if description is not None and not isinstance(description, str):
        raise _invalid(f"{where}.description", "must be a string")
    return Tool(
        name=_string(tool, "name", where),
        description=description,
        parameters=schema,
        cache_control=_marker(tool, where),
    )


def _raw_only(tool: dict[str, Any]) -> bool:
    """Whether a tool has what only its raw form keeps (a server tool, an unknown key)."""
    return tool.get("type") not in (None, "custom") or bool(set(tool) - _TOOL_KEYS)


def _marker(block: dict[str, Any], where: str) -> dict[str, Any] | None:
    marker = block.get("cache_control")
    if marker is not None and not isinstance(marker, dict):
        raise _invalid(f"{where}.cache_control", "must be an object")
    return marker


__all__ = ["request_from_anthropic"]
