"""Canonical :class:`ChatRequest` -> the body of Anthropic's ``POST /v1/messages``.

Following Anthropic's Messages API reference:

- system and developer messages, wherever they stand, become the top-level ``system`` (in
  order; a string, or text blocks when there are several or one carries a cache marker);
- the rest become alternating ``user`` / ``assistant`` turns: consecutive messages of one role
  are merged into one turn, as the API requires; ``tool`` messages become ``tool_result`` blocks
  of a user turn, placed before any text of that turn (the API wants them first);
- images: a ``data:`` URL becomes a ``base64`` source, an ``http(s)`` URL a ``url`` source;
- documents: a ``document`` block; a PDF's ``data:`` URL a ``base64`` source, its ``http(s)``
  URL a ``url`` source, a ``text/plain`` document's data a ``text`` source; ``filename`` ->
  ``title``, ``context`` and ``citations`` as they are; any other type is refused;
- assistant tool calls become ``tool_use`` blocks (their JSON ``arguments`` parsed into
  ``input``); ``Message.reasoning`` alone is not sent back (Anthropic needs the thinking
  block's signature), ``Message.thinking`` is: its ``thinking`` blocks with their signatures
  and its ``redacted_thinking`` blocks, first in the turn, as Anthropic wants them;
- a part's, tool's, tool call's or tool message's ``cache_control`` marker goes on the block
  made from it, as it is;
- tools get ``input_schema``; ``tool_choice`` auto/required/none/a name becomes
  ``auto``/``any``/``none``/``tool``, and ``parallel_tool_calls: false`` sets
  ``disable_parallel_tool_use``; neither is sent without tools;
- ``stop`` -> ``stop_sequences``; ``user`` -> ``metadata.user_id`` (the request's own
  ``metadata`` stays in the gateway: Anthropic's takes nothing else); ``temperature`` and
  ``top_p`` as they are; ``max_tokens`` always (the API requires it; see
  :func:`default_max_tokens`); JSON modes by instruction (:mod:`.json_mode`);
- ``n`` above 1 and ``logprobs`` cannot be expressed and raise ``InvalidRequest``; ``seed`` and
  the presence/frequency penalties are sampling knobs Anthropic lacks and are left out;
- ``format_fields`` of the ``anthropic`` format (what the Anthropic door had no canonical
  place for: ``thinking``, ``top_k``, ...) and then ``extra`` are merged last, as they are
  (``top_k``, ``thinking``, top-level ``cache_control``, ...), except ``cache_breakpoints``
  (:mod:`.caching`) and OpenAI's ``stream_options``;
- ``reasoning`` -> ``thinking`` with a budget (:mod:`.thinking`), unless the caller's own
  fields already set ``thinking``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from switchyard.catalog.catalog import Catalog
from switchyard.errors import InvalidRequest
from switchyard.providers.anthropic.caching import (
    BREAKPOINTS_KEY,
    apply_breakpoints,
    parse_breakpoints,
)
from switchyard.providers.anthropic.json_mode import json_instruction
from switchyard.providers.anthropic.thinking import thinking_for
from switchyard.types import (
    CacheMarker,
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    NamedToolChoice,
    TextPart,
    ThinkingBlock,
    Tool,
    ToolChoice,
)

FALLBACK_MAX_TOKENS = 4096
_NOT_SENT = frozenset({BREAKPOINTS_KEY, "stream_options"})

Block = dict[str, Any]


def default_max_tokens(model: str, catalog: Catalog, configured: int | None = None) -> int:
    """``max_tokens`` for a request that set none: the provider's configured default, else the
    catalog's ``max_output_tokens`` for ``model``, else 4096."""
    if configured is not None:
        return configured
    info = catalog.get(model)
    if info is not None and info.max_output_tokens is not None:
        return info.max_output_tokens
    return FALLBACK_MAX_TOKENS


def request_to_anthropic(request: ChatRequest, *, max_tokens: int, stream: bool) -> dict[str, Any]:
    """The ``POST /v1/messages`` body for ``request`` (``max_tokens`` used when the request
    sets none). Raises ``InvalidRequest`` naming the field it cannot translate."""
    _refuse_inexpressible(request)
    extra = request.extra or {}
    converted = _Converted.of(request.messages)
    instruction = json_instruction(request.response_format)
    if instruction is not None:
        converted.system.append({"type": "text", "text": instruction})
    tools = [_tool(tool) for tool in request.tools or ()]
    apply_breakpoints(
        parse_breakpoints(extra.get(BREAKPOINTS_KEY), len(request.messages)),
        tools=tools,
        system=converted.system,
        last_blocks=converted.last_blocks,
    )

    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else max_tokens,
        "messages": [_turn(turn) for turn in converted.turns],
    }
    if converted.system:
        body["system"] = _system(converted.system)
    if tools:
        body["tools"] = tools
        choice = tool_choice_to_anthropic(request.tool_choice, request.parallel_tool_calls)
        if choice is not None:
            body["tool_choice"] = choice
    if request.stop:
        body["stop_sequences"] = request.stop
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.user is not None:
        body["metadata"] = {"user_id": request.user}
    native = request.format_fields
    if native is not None and native.format == "anthropic":
        body.update(native.fields)
    for key, value in extra.items():
        if key not in _NOT_SENT:
            body[key] = value
    if request.reasoning is not None and "thinking" not in body:  # the caller's own wins
        thinking = thinking_for(request.reasoning, body)
        if thinking is not None:
            body["thinking"] = thinking
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    return body


def tool_choice_to_anthropic(
    choice: ToolChoice | None, parallel_tool_calls: bool | None
) -> dict[str, Any] | None:
    """OpenAI's tool choice (auto/required/none/a function) as Anthropic's (auto/any/none/tool);
    ``parallel_tool_calls=False`` becomes ``disable_parallel_tool_use``."""
    if choice == "none":
        return {"type": "none"}
    if choice is None and parallel_tool_calls is not False:
        return None
    out: dict[str, Any]
    if isinstance(choice, NamedToolChoice):
        out = {"type": "tool", "name": choice.name}
    elif choice == "required":
        out = {"type": "any"}
    else:
        out = {"type": "auto"}
    if parallel_tool_calls is False:
        out["disable_parallel_tool_use"] = True
    return out


def tool_choice_from_anthropic(value: dict[str, Any]) -> tuple[ToolChoice, bool | None]:
    """Anthropic's ``tool_choice`` as the canonical choice and ``parallel_tool_calls``."""
    kind = value.get("type")
    parallel = False if value.get("disable_parallel_tool_use") is True else None
    if kind == "tool" and isinstance(value.get("name"), str):
        return NamedToolChoice(name=value["name"]), parallel
    mapped: dict[Any, ToolChoice] = {"auto": "auto", "any": "required", "none": "none"}
    if kind not in mapped:
        raise InvalidRequest(f"unknown tool_choice type {kind!r}", param="tool_choice")
    return mapped[kind], parallel


# -- messages ---------------------------------------------------------------------------------


@dataclass
class _Turn:
    role: str
    blocks: list[Block]


@dataclass
class _Converted:
    system: list[Block] = field(default_factory=list)
    turns: list[_Turn] = field(default_factory=list)
    last_blocks: dict[int, Block] = field(default_factory=dict)

    @classmethod
    def of(cls, messages: list[Message]) -> _Converted:
        converted = cls()
        for i, message in enumerate(messages):
            if message.role in ("system", "developer"):
                blocks = _system_blocks(message, i)
                converted.system.extend(blocks)
            elif message.role == "tool":
                blocks = [_tool_result(message, i)]
                converted.add("user", blocks)
            elif message.role == "assistant":
                blocks = _assistant_blocks(message, i)
                converted.add("assistant", blocks)
            else:
                blocks = _content_blocks(message.content, f"messages[{i}].content")
                converted.add("user", blocks)
            if blocks:
                converted.last_blocks[i] = blocks[-1]
        return converted

    def add(self, role: str, blocks: list[Block]) -> None:
        if not blocks:
            return
        if self.turns and self.turns[-1].role == role:
            self.turns[-1].blocks.extend(blocks)
        else:
            self.turns.append(_Turn(role, list(blocks)))


def _turn(turn: _Turn) -> dict[str, Any]:
    blocks = turn.blocks
    if turn.role == "user":  # tool results first, the rest in order
        blocks = [b for b in blocks if b["type"] == "tool_result"] + [
            b for b in blocks if b["type"] != "tool_result"
        ]
    if len(blocks) == 1 and _is_plain_text(blocks[0]):
        return {"role": turn.role, "content": blocks[0]["text"]}
    return {"role": turn.role, "content": blocks}


def _system(blocks: list[Block]) -> str | list[Block]:
    if len(blocks) == 1 and _is_plain_text(blocks[0]):
        text: str = blocks[0]["text"]
        return text
    return blocks


def _is_plain_text(block: Block) -> bool:
    return block["type"] == "text" and "cache_control" not in block


def _system_blocks(message: Message, i: int) -> list[Block]:
    blocks = _content_blocks(message.content, f"messages[{i}].content")
    if any(block["type"] != "text" for block in blocks):
        raise InvalidRequest(
            "Anthropic takes only text in the system prompt", param=f"messages[{i}].content"
        )
    return blocks


def _assistant_blocks(message: Message, i: int) -> list[Block]:
    blocks = [_thinking(block) for block in message.thinking or ()]
    blocks.extend(_content_blocks(message.content, f"messages[{i}].content"))
    for j, call in enumerate(message.tool_calls or ()):
        where = f"messages[{i}].tool_calls[{j}].function.arguments"
        try:
            arguments = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"{where} is not valid JSON", param=where) from exc
        if not isinstance(arguments, dict):
            raise InvalidRequest(f"{where} must be a JSON object", param=where)
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments}
        blocks.append(_marked(block, call.cache_control))
    return blocks


def _thinking(block: ThinkingBlock) -> Block:
    if block.type == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.data or ""}
    return {"type": "thinking", "thinking": block.thinking, "signature": block.signature or ""}


def _marked(block: Block, marker: CacheMarker | None) -> Block:
    if marker is not None:
        block["cache_control"] = marker
    return block


def _tool_result(message: Message, i: int) -> Block:
    if not message.tool_call_id:
        where = f"messages[{i}].tool_call_id"
        raise InvalidRequest(f"{where} is required for a tool message", param=where)
    block: Block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    content = message.content
    if isinstance(content, list):
        block["content"] = _content_blocks(content, f"messages[{i}].content")
    elif content:
        block["content"] = content
    if message.is_error is not None:
        block["is_error"] = message.is_error
    return _marked(block, message.cache_control)


def _content_blocks(content: str | list[ContentPart] | None, where: str) -> list[Block]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[Block] = []
    for k, part in enumerate(content):
        if isinstance(part, TextPart):
            if part.text:
                blocks.append(_marked({"type": "text", "text": part.text}, part.cache_control))
        elif isinstance(part, FilePart):
            blocks.append(_marked(_document(part, f"{where}[{k}]"), part.cache_control))
        else:
            blocks.append(_marked(_image(part, f"{where}[{k}].url"), part.cache_control))
    return blocks


def _document(part: FilePart, where: str) -> Block:
    block: Block = {"type": "document", "source": _document_source(part, where)}
    for key, value in (
        ("title", part.filename),
        ("context", part.context),
        ("citations", part.citations),
    ):
        if value is not None:
            block[key] = value
    return block


def _document_source(part: FilePart, where: str) -> Block:
    data = part.base64_data
    if part.mime_type == "application/pdf" and data is not None:
        return {"type": "base64", "media_type": "application/pdf", "data": data}
    if part.mime_type == "application/pdf" and part.url.startswith(("https://", "http://")):
        return {"type": "url", "url": part.url}
    text = part.plain_text()
    if text is not None:
        return {"type": "text", "media_type": "text/plain", "data": text}
    given = "as data" if part.is_data_url else "by URL"
    raise InvalidRequest(
        f"{where}: Anthropic takes a PDF document (as base64 data or by URL) or a plain-text "
        f"one (as base64 of UTF-8 text), not this {part.mime_type} document {given}",
        param=where,
    )


def _image(part: ImagePart, where: str) -> Block:
    url = part.url
    if part.is_data_url:
        header, comma, data = url.partition(",")
        media_type, _, encoding = header.removeprefix("data:").partition(";")
        if not comma or encoding != "base64" or not media_type or not data:
            raise InvalidRequest(
                f"{where}: an image data URL must look like data:image/png;base64,...",
                param=where,
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequest(f"{where}: an image must be an http(s) or data: URL", param=where)


def _tool(tool: Tool) -> Block:
    out: Block = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    out["input_schema"] = tool.parameters
    return _marked(out, tool.cache_control)


def _refuse_inexpressible(request: ChatRequest) -> None:
    if request.n is not None and request.n > 1:
        raise InvalidRequest("Anthropic returns one choice per request (n must be 1)", param="n")
    if request.logprobs:
        raise InvalidRequest("Anthropic does not return log probabilities", param="logprobs")


__all__ = [
    "FALLBACK_MAX_TOKENS",
    "default_max_tokens",
    "request_to_anthropic",
    "tool_choice_from_anthropic",
    "tool_choice_to_anthropic",
]
