"""Canonical requests -> Gemini request bodies (``generateContent`` and embeddings). Pure.

What goes where (ai.google.dev/api/generate-content, .../caching#Content, function calling
guide ai.google.dev/gemini-api/docs/function-calling, structured output guide):

- ``system`` / ``developer`` messages -> ``systemInstruction``; ``user`` -> role ``user``;
  ``assistant`` -> role ``model``; tool results -> ``functionResponse`` parts in a ``user``
  turn. Adjacent turns of one role are merged (Gemini wants all results of a turn together).
- Images and documents: a ``data:`` URL -> ``inlineData`` (with its ``mimeType``:
  ``application/pdf``, ``text/plain``, ...); a Gemini Files API URI -> ``fileData``. Any other
  URL is refused (Gemini fetches no web URLs for ``fileData``): send the data as a data URL.
  A tool result's documents follow its ``functionResponse`` as ``inlineData`` parts of the
  same turn (as gemini-cli sends a file its tool read; a ``functionResponse`` carries media of
  its own only on Gemini 3).
- Tool calls replayed from the history -> ``functionCall`` with ``args`` parsed from the
  canonical JSON text; their ``id`` is not sent (the Developer API refuses ``id`` on request
  parts in several versions and correlates results by name and order). A ``functionResponse``
  needs the function's NAME: it is recovered from the nearest earlier assistant tool call with
  the same id. A replayed ``functionCall`` carries the ``thoughtSignature`` it came with
  (``ToolCall.thought_signature``: kept from a Gemini reply, or sent back by the Gemini door's
  caller); a model turn none of whose calls has one gets the configured one on its first call
  (see ``GeminiSettings``).
- A result that is a JSON object is sent as the ``response`` object; anything else as
  ``{"output": text}`` (the reference's key for a function's output).
- Tools -> ``functionDeclarations`` with ``parametersJsonSchema`` (full JSON Schema, no
  conversion to the OpenAPI subset); tool choice -> ``functionCallingConfig.mode`` AUTO / ANY /
  NONE, a named tool -> ANY with ``allowedFunctionNames``.
- JSON mode -> ``responseMimeType: application/json``; a JSON schema -> ``responseJsonSchema``.
- ``format_fields`` of the ``gemini`` format (what the Gemini door had no canonical place
  for: ``safetySettings``, ``generationConfig.topK`` or ``thinkingConfig``, built-in tools,
  ...) are merged like ``extra``, before it.
- ``reasoning`` -> ``generationConfig.thinkingConfig`` (:func:`thinking_config`).
- ``extra`` is merged last: ``generationConfig`` key by key, ``tools`` appended (built-in tools
  such as ``googleSearch``), other keys set as given; it may not set ``contents``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import quote

from switchyard.errors import InvalidRequest
from switchyard.types import (
    ChatRequest,
    EmbeddingRequest,
    EmbeddingTask,
    FilePart,
    ImagePart,
    Message,
    Reasoning,
    ResponseFormat,
    TextPart,
    Tool,
    ToolChoice,
)

_FILES_URI_PREFIX = "https://generativelanguage.googleapis.com/"
_RESERVED_EXTRA = frozenset({"contents"})


def model_resource(model: str) -> str:
    """``models/{model}`` (a ``models/`` prefix given by the caller is kept once; a
    ``tunedModels/...`` name stays as it is), each segment URL-quoted."""
    name = model.removeprefix("models/")
    if name.startswith("tunedModels/"):
        collection, _, rest = name.partition("/")
        return f"{collection}/{quote(rest, safe='')}"
    return f"models/{quote(name, safe='')}"


def chat_body(request: ChatRequest, *, thought_signature: str | None = None) -> dict[str, Any]:
    """The ``generateContent`` / ``streamGenerateContent`` body for a canonical request."""
    system, contents = _contents(request.messages, thought_signature)
    if not contents:
        raise InvalidRequest(
            "Gemini needs at least one user or assistant message", param="messages"
        )
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
        if request.tool_choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _calling_config(request.tool_choice)}
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    native = request.format_fields
    if native is not None and native.format == "gemini":
        _merge_extra(body, native.fields)
    _merge_extra(body, request.extra or {})
    return body


def arguments_json(args: dict[str, Any] | None) -> str:
    """The canonical ``arguments`` text for a Gemini ``functionCall.args`` object.

    Gemini sends arguments as a JSON object, not as text, so the bytes a caller sees are the
    gateway's serialisation of it: ``json.dumps`` with its default separators (``", "`` and
    ``": "``), keys in the order Gemini sent them, non-ASCII characters kept as they are.
    The same call always gives the same bytes, streamed or not.
    """
    return json.dumps(args or {}, ensure_ascii=False)


# -- messages ---------------------------------------------------------------------------------


def _contents(
    messages: list[Message], thought_signature: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}  # tool call id -> function name, latest assistant wins
    for i, message in enumerate(messages):
        if message.role in ("system", "developer"):
            text = message.text()
            if text:
                system.append({"text": text})
            continue
        if message.role == "assistant":
            role, parts = "model", _assistant_parts(message, i, thought_signature)
            for call in message.tool_calls or ():
                call_names[call.id] = call.name
        elif message.role == "tool":
            role, parts = "user", [_function_response(message, i, call_names)]
            parts += _documents(message, i)
        else:
            role, parts = "user", _user_parts(message, i)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _user_parts(message: Message, i: int) -> list[dict[str, Any]]:
    content = message.content
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        if isinstance(part, TextPart):
            parts.append({"text": part.text})
        else:
            parts.append(_media(part, f"messages[{i}].content[{j}]"))
    return parts


def _documents(message: Message, i: int) -> list[dict[str, Any]]:
    """A tool result's documents, as the parts that follow its ``functionResponse``."""
    if not isinstance(message.content, list):
        return []
    return [
        _media(part, f"messages[{i}].content[{j}]")
        for j, part in enumerate(message.content)
        if isinstance(part, FilePart)
    ]


def _media(part: ImagePart | FilePart, param: str) -> dict[str, Any]:
    url = part.url
    noun = "image" if isinstance(part, ImagePart) else "document"
    if url.startswith(_FILES_URI_PREFIX):
        return {"fileData": {"fileUri": url}}
    if not part.is_data_url:
        raise InvalidRequest(
            f"Gemini cannot fetch {noun} URLs: send the {noun} as a base64 data URL "
            "(data:<mime type>;base64,...) or as a Gemini Files API URI",
            param=param,
        )
    header, comma, data = url.partition(",")
    mime_type, _, encoding = header.removeprefix("data:").partition(";")
    if not comma or encoding != "base64" or not mime_type:
        raise InvalidRequest(
            f"the {noun}'s data URL must look like data:<mime type>;base64,<data>", param=param
        )
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"the {noun}'s data URL is not valid base64", param=param) from exc
    return {"inlineData": {"mimeType": mime_type, "data": data}}


def _assistant_parts(
    message: Message, i: int, thought_signature: str | None
) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    text = message.text()
    if text:
        parts.append({"text": text})
    calls = message.tool_calls or []
    signed = any(call.thought_signature for call in calls)
    for j, call in enumerate(calls):
        part: dict[str, Any] = {
            "functionCall": {"name": call.name, "args": _arguments(call.arguments, i, j)}
        }
        signature = call.thought_signature if signed else (thought_signature if j == 0 else None)
        if signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _arguments(text: str, i: int, j: int) -> dict[str, Any]:
    param = f"messages[{i}].tool_calls[{j}].arguments"
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"tool call arguments are not valid JSON: {exc}", param=param) from exc
    if not isinstance(value, dict):
        raise InvalidRequest("Gemini needs tool call arguments as a JSON object", param=param)
    return value


def _function_response(message: Message, i: int, call_names: dict[str, str]) -> dict[str, Any]:
    call_id = message.tool_call_id or ""
    name = call_names.get(call_id)
    if name is None:
        raise InvalidRequest(
            f"tool result {call_id!r} answers no earlier assistant tool call; Gemini needs "
            "the function's name, taken from that call",
            param=f"messages[{i}].tool_call_id",
        )
    text = message.text()
    response: Any
    try:
        response = json.loads(text)
    except json.JSONDecodeError:
        response = None
    if not isinstance(response, dict):
        response = {"output": text}
    return {"functionResponse": {"name": name, "response": response}}


# -- tools and generation config ---------------------------------------------------------------


def _declaration(tool: Tool) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        declaration["description"] = tool.description
    declaration["parametersJsonSchema"] = tool.parameters
    return declaration


def _calling_config(choice: ToolChoice) -> dict[str, Any]:
    if choice == "auto":
        return {"mode": "AUTO"}
    if choice == "none":
        return {"mode": "NONE"}
    if choice == "required":
        return {"mode": "ANY"}
    return {"mode": "ANY", "allowedFunctionNames": [choice.name]}


def _generation_config(request: ChatRequest) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key, value in (
        ("temperature", request.temperature),
        ("topP", request.top_p),
        ("maxOutputTokens", request.max_tokens),
        ("stopSequences", request.stop or None),
        ("seed", request.seed),
        ("candidateCount", request.n),
        ("presencePenalty", request.presence_penalty),
        ("frequencyPenalty", request.frequency_penalty),
    ):
        if value is not None:
            config[key] = value
    config.update(_response_format(request.response_format))
    if request.reasoning is not None:
        thinking = thinking_config(request.reasoning)
        if thinking:
            config["thinkingConfig"] = thinking
    return config


def thinking_config(reasoning: Reasoning) -> dict[str, Any]:
    """``generationConfig.thinkingConfig``: ``thinkingBudget`` for a budget (effort ``none``
    is a budget of 0: no thinking), else ``thinkingLevel`` (Gemini 3's ``low`` or ``high``)
    for an effort."""
    if reasoning.budget_tokens is not None:
        return {"thinkingBudget": reasoning.budget_tokens}
    if reasoning.effort is None:
        return {}
    if reasoning.effort == "none":
        return {"thinkingBudget": 0}
    return {"thinkingLevel": "low" if reasoning.effort in ("minimal", "low") else "high"}


def _response_format(fmt: ResponseFormat | None) -> dict[str, Any]:
    if fmt is None or fmt.type == "text":
        return {}
    out: dict[str, Any] = {"responseMimeType": "application/json"}
    if fmt.type == "json_schema" and fmt.json_schema is not None:
        if fmt.json_schema.schema_ is not None:
            out["responseJsonSchema"] = fmt.json_schema.schema_
    return out


def _merge_extra(body: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if key in _RESERVED_EXTRA:
            raise InvalidRequest(f"extra may not set {key!r}", param=f"extra.{key}")
        if key == "generationConfig" and isinstance(value, dict):
            body["generationConfig"] = {**body.get("generationConfig", {}), **value}
        elif key == "tools" and isinstance(value, list):
            body["tools"] = [*body.get("tools", []), *value]
        else:
            body[key] = value


# -- embeddings -------------------------------------------------------------------------------


# Gemini's TaskType (``embedContent``'s ``taskType``) <-> the canonical task
GEMINI_TASKS: dict[str, EmbeddingTask | None] = {
    "TASK_TYPE_UNSPECIFIED": None,
    "RETRIEVAL_QUERY": "query",
    "RETRIEVAL_DOCUMENT": "document",
    "SEMANTIC_SIMILARITY": "similarity",
    "CLASSIFICATION": "classification",
    "CLUSTERING": "clustering",
    "QUESTION_ANSWERING": "question_answering",
    "FACT_VERIFICATION": "fact_verification",
    "CODE_RETRIEVAL_QUERY": "code_query",
}
_TASK_TYPES = {task: name for name, task in GEMINI_TASKS.items() if task is not None}


def embed_body(request: EmbeddingRequest) -> tuple[str, dict[str, Any]]:
    """``(method, body)``: ``embedContent`` for one input, ``batchEmbedContents`` for more;
    the task as ``taskType`` and each input's title as its ``title``."""
    if not request.input:
        raise InvalidRequest("input must not be empty", param="input")
    resource = model_resource(request.model)
    requests = []
    titles = request.titles or [None] * len(request.input)
    for text, title in zip(request.input, titles, strict=True):
        item: dict[str, Any] = {"model": resource, "content": {"parts": [{"text": text}]}}
        if request.task is not None:
            item["taskType"] = _TASK_TYPES[request.task]
        if title is not None:
            item["title"] = title
        if request.dimensions is not None:
            item["outputDimensionality"] = request.dimensions
        requests.append(item)
    if len(requests) == 1:
        return "embedContent", requests[0]
    return "batchEmbedContents", {"requests": requests}


__all__ = ["GEMINI_TASKS", "arguments_json", "chat_body", "embed_body", "model_resource"]
