"""A caller's Gemini ``generateContent`` body -> the canonical :class:`ChatRequest` (pure).

Following Gemini's REST reference (ai.google.dev/api/generate-content, .../caching#Content),
checked while translated so an error names the caller's own path
(``contents[2].parts[0].inlineData.data``). Field names may come in ``lowerCamelCase`` or
``snake_case``, as Google's JSON accepts both (``google-genai`` sends ``thinkingConfig``'s
and ``parametersJsonSchema`` in snake case): each object the door reads has its own keys put
in camel case (:func:`camel_keys`; never a schema's property names, ``args`` or a
``response``), so what goes through to a Gemini upstream is in one spelling.

- ``systemInstruction`` (a ``Content``, or a string) is the first message, role ``system``;
- ``contents``: a ``user`` (or legacy ``function``) turn's ``functionResponse`` parts become
  ``tool`` messages, then its ``text`` / ``inlineData`` / ``fileData`` parts one ``user``
  message; a ``model`` turn's text parts are its content, its ``thought: true`` parts its
  ``reasoning``, its ``functionCall`` parts tool calls (``args`` as JSON text, the part's
  ``thoughtSignature`` on the call, so a Gemini upstream gets it back);
- a ``functionResponse`` answers the call with its ``id``, else the first unanswered call of
  the previous model turn with its ``name``; its ``response`` is the tool message's content:
  the text of a ``{"output": "..."}`` response (the key gemini-cli and the docs use), else
  the JSON, followed by the images and documents of its ``parts`` (a multimodal function
  response; gemini-cli sends a file its tool read as parts after the ``functionResponse``,
  which become the next user message);
  ``{"error": ...}`` marks the result as failed;
- ``inlineData`` becomes a ``data:`` URL (its data in standard base64: ``google-genai``
  sends the URL-safe alphabet) and ``fileData`` its http(s) ``fileUri``: an image,
  or, of any other ``mimeType`` (``application/pdf``, ``text/plain``), a document;
- tools: ``functionDeclarations`` with ``parametersJsonSchema`` (as it is) or ``parameters``
  (Gemini's OpenAPI subset: upper-case types and ``nullable`` made JSON Schema);
  ``toolConfig.functionCallingConfig`` AUTO / ANY (one allowed name: that tool) / NONE;
- ``generationConfig``: ``temperature``, ``topP``, ``maxOutputTokens``, ``stopSequences``,
  ``candidateCount``, ``seed``, ``presencePenalty``, ``frequencyPenalty``,
  ``responseLogprobs`` / ``logprobs``, ``responseMimeType: application/json`` with
  ``responseJsonSchema`` or ``responseSchema`` -> ``response_format``; ``thinkingConfig``
  (``thinkingBudget``, ``thinkingLevel``) -> ``reasoning``;
- everything else (``safetySettings``, ``cachedContent``, ``generationConfig.topK``,
  ``thinkingConfig`` itself, built-in tools such as ``googleSearch``, ...) is kept as the
  request's ``format_fields`` (format ``gemini``): sent as it is to a Gemini upstream, left
  out for the others.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from switchyard.formats.request_fields import invalid as _invalid
from switchyard.formats.request_fields import optional_string_at as _optional_string
from switchyard.formats.request_fields import string_at as _string
from switchyard.providers.gemini.translate import GEMINI_TASKS, arguments_json
from switchyard.types import (
    ChatRequest,
    EmbeddingRequest,
    EmbeddingTask,
    FilePart,
    FormatFields,
    ImagePart,
    JsonSchemaFormat,
    Message,
    NamedToolChoice,
    Reasoning,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
    ToolChoice,
)

Part = TextPart | ImagePart | FilePart
_CANONICAL = frozenset(
    {"model", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig"}
)
# generationConfig keys with a canonical place (thinkingConfig also goes through as it is)
_CANONICAL_CONFIG = frozenset(
    {
        "temperature",
        "topP",
        "maxOutputTokens",
        "stopSequences",
        "candidateCount",
        "seed",
        "presencePenalty",
        "frequencyPenalty",
        "responseLogprobs",
        "logprobs",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
    }
)
_MODES: dict[str, ToolChoice | None] = {
    "AUTO": "auto",
    "VALIDATED": "auto",
    "ANY": "required",
    "NONE": "none",
    "MODE_UNSPECIFIED": None,
}
_LEVELS = frozenset({"minimal", "low", "medium", "high"})
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_SCHEMA_NESTED = frozenset(
    {"items", "anyOf", "oneOf", "allOf", "not", "additionalProperties", "prefixItems"}
)
_METADATA_KEYS = frozenset({"thought", "thoughtSignature", "videoMetadata", "partMetadata"})


def camel_keys(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its own keys in lowerCamelCase (``thinking_budget`` -> ``thinkingBudget``);
    the values are left as they are."""
    if not any("_" in key for key in data):
        return data
    return {_camel(key): value for key, value in data.items()}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def request_from_gemini(body: dict[str, Any], model: str, *, stream: bool) -> ChatRequest:
    """``body`` (a ``generateContent`` request) for the alias ``model`` as a canonical request;
    ``stream`` for ``streamGenerateContent``. Raises ``InvalidRequest`` naming the field."""
    body = camel_keys(body)
    messages: list[Message] = []
    system = body.get("systemInstruction")
    if system is not None:
        messages.append(_system(system))
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _invalid("contents", "a non-empty list of Content objects is required")
    messages.extend(_contents(contents))
    data: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
    native: dict[str, Any] = {k: v for k, v in body.items() if k not in _CANONICAL}
    tools = body.get("tools")
    if tools is not None:
        declared, builtin = _tools(tools)
        if declared:
            data["tools"] = declared
        if builtin:
            native["tools"] = builtin
    tool_config = body.get("toolConfig")
    if tool_config is not None:
        tool_config = camel_keys(_object(tool_config, "toolConfig"))
        data["tool_choice"] = _tool_choice(tool_config)
        if set(tool_config) - {"functionCallingConfig"}:  # retrievalConfig, ...: as it is
            native["toolConfig"] = tool_config
    config = body.get("generationConfig")
    if config is not None:
        config = camel_keys(_object(config, "generationConfig"))
        if isinstance(config.get("thinkingConfig"), dict):
            config["thinkingConfig"] = camel_keys(config["thinkingConfig"])
        data.update(_generation_config(config))
        rest = {k: v for k, v in config.items() if k not in _CANONICAL_CONFIG}
        if rest:
            native["generationConfig"] = rest
    if native:
        data["format_fields"] = FormatFields(format="gemini", fields=native)
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        raise _invalid(where, error["msg"].lower()) from None


def count_request_from_gemini(body: dict[str, Any], model: str) -> ChatRequest:
    """A ``countTokens`` body: ``contents``, or a whole ``generateContentRequest``."""
    body = camel_keys(body)
    inner = body.get("generateContentRequest")
    if inner is not None:
        inner = _object(inner, "generateContentRequest")
        return request_from_gemini(inner, model, stream=False)
    return request_from_gemini({"contents": body.get("contents")}, model, stream=False)


def embedding_request_from_gemini(
    items: list[dict[str, Any]], model: str, where: str
) -> EmbeddingRequest:
    """``embedContent`` bodies (one, or ``batchEmbedContents``' ``requests``) as one canonical
    request: each ``content``'s text parts joined by newlines is one input.
    ``outputDimensionality`` and ``taskType`` must be the same for all (the request's
    ``dimensions`` and ``task``); each ``title`` is its input's."""
    texts: list[str] = []
    titles: list[str | None] = []
    dimensions: set[int | None] = set()
    tasks: set[EmbeddingTask | None] = set()
    for i, item in enumerate(items):
        at = f"{where}[{i}]" if where else ""
        item = camel_keys(_object(item, at or "body"))
        content = item.get("content")
        prefix = f"{at}.content" if at else "content"
        if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
            raise _invalid(prefix, "a Content object with parts is required")
        pieces = []
        for j, part in enumerate(content["parts"]):
            if not isinstance(part, dict) or not isinstance(part.get("text"), str):
                raise _invalid(f"{prefix}.parts[{j}].text", "only text can be embedded")
            pieces.append(part["text"])
        texts.append("\n".join(pieces))
        size = item.get("outputDimensionality")
        if size is not None and (not _is_int(size) or size < 1):
            key = f"{at}.outputDimensionality" if at else "outputDimensionality"
            raise _invalid(key, "must be a positive integer")
        dimensions.add(size)
        task = item.get("taskType")
        if task is not None and task not in GEMINI_TASKS:
            key = f"{at}.taskType" if at else "taskType"
            raise _invalid(key, f"must be one of {', '.join(GEMINI_TASKS)}")
        tasks.add(None if task is None else GEMINI_TASKS[task])
        title = item.get("title")
        if title is not None and not isinstance(title, str):
            raise _invalid(f"{at}.title" if at else "title", "must be a string")
        titles.append(title)
    if not texts:
        raise _invalid(where or "content", "nothing to embed")
    if len(dimensions) > 1:
        raise _invalid(f"{where}.outputDimensionality", "must be the same for every request")
    if len(tasks) > 1:
        raise _invalid(f"{where}.taskType", "must be the same for every request")
    return EmbeddingRequest(
        model=model,
        input=texts,
        dimensions=dimensions.pop(),
        task=tasks.pop(),
        titles=titles if any(t is not None for t in titles) else None,
    )


# -- contents ---------------------------------------------------------------------------------


def _system(system: Any) -> Message:
    if isinstance(system, str):
        return Message(role="system", content=system)
    parts = camel_keys(system).get("parts") if isinstance(system, dict) else None
    if not isinstance(parts, list):
        raise _invalid("systemInstruction", "must be a Content object with text parts")
    texts: list[str] = []
    for j, part in enumerate(parts):
        at = f"systemInstruction.parts[{j}]"
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            raise _invalid(f"{at}.text", "the system instruction takes text parts only")
        texts.append(part["text"])
    if len(texts) == 1:  # the usual case, as a plain string for every upstream
        return Message(role="system", content=texts[0])
    return Message(role="system", content=[TextPart(text=text) for text in texts])


def _contents(contents: list[Any]) -> list[Message]:
    messages: list[Message] = []
    unanswered: list[ToolCall] = []  # the previous model turn's calls no result answered yet
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        content = _object(content, where)
        role = content.get("role") or "user"
        parts = content.get("parts")
        if role not in ("user", "model", "function"):
            raise _invalid(f"{where}.role", "must be 'user' or 'model'")
        if not isinstance(parts, list):
            raise _invalid(f"{where}.parts", "a list of parts is required")
        if role == "model":
            message = _model_turn(parts, where, i)
            unanswered = list(message.tool_calls or ())
            if message.text() or message.tool_calls:  # a turn of thoughts only: nothing said
                messages.append(message)
        else:
            messages.extend(_user_turn(parts, where, unanswered))
    return messages


def _user_turn(parts: list[Any], where: str, unanswered: list[ToolCall]) -> list[Message]:
    """Function responses first (each a tool message), then the rest as one user message."""
    out: list[Message] = []
    content: list[Part] = []
    for j, part in enumerate(parts):
        at = f"{where}.parts[{j}]"
        part = camel_keys(_object(part, at))
        if "functionResponse" in part:
            out.append(_function_response(part["functionResponse"], at, unanswered))
        elif "text" in part:
            if not part.get("thought"):  # a thought in a user turn: nothing to answer
                content.append(TextPart(text=_string(part, "text", at)))
        else:
            media = _media(part, at)
            if media is not None:
                content.append(media)
    if content:
        out.append(Message(role="user", content=content))
    return out


def _model_turn(parts: list[Any], where: str, turn: int) -> Message:
    text: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for j, part in enumerate(parts):
        at = f"{where}.parts[{j}]"
        part = camel_keys(_object(part, at))
        if "functionCall" in part:
            calls.append(_function_call(part, at, f"call_{turn}_{len(calls)}"))
        elif "text" in part:
            (thoughts if part.get("thought") else text).append(_string(part, "text", at))
        elif not set(part) <= _METADATA_KEYS:
            kinds = ", ".join(sorted(set(part) - _METADATA_KEYS))
            raise _invalid(at, f"{kinds} parts are not supported in a model turn")
    joined = "".join(text)
    return Message(
        role="assistant",
        content=joined if joined or not (calls or thoughts) else None,
        tool_calls=calls or None,
        reasoning="".join(thoughts) or None,
    )


def _function_call(part: dict[str, Any], where: str, fallback_id: str) -> ToolCall:
    at = f"{where}.functionCall"
    call = _object(part["functionCall"], at)
    args = call.get("args")
    if args is not None and not isinstance(args, dict):
        raise _invalid(f"{at}.args", "must be an object")
    call_id = call.get("id")
    if call_id is not None and not isinstance(call_id, str):
        raise _invalid(f"{at}.id", "must be a string")
    signature = part.get("thoughtSignature")
    if signature is not None and not isinstance(signature, str):
        raise _invalid(f"{where}.thoughtSignature", "must be a string")
    return ToolCall(
        id=call_id or fallback_id,
        name=_string(call, "name", at),
        arguments=arguments_json(args),
        thought_signature=signature,
    )


def _function_response(response: Any, where: str, unanswered: list[ToolCall]) -> Message:
    at = f"{where}.functionResponse"
    response = _object(response, at)
    name = _string(response, "name", at)
    call_id = response.get("id")
    if call_id is not None and not isinstance(call_id, str):
        raise _invalid(f"{at}.id", "must be a string")
    answered = next(
        (c for c in unanswered if (c.id == call_id if call_id else c.name == name)), None
    )
    if answered is not None:
        unanswered.remove(answered)
        call_id = answered.id
    if not call_id:
        raise _invalid(
            f"{at}.name", f"no function call {name!r} of the previous model turn is unanswered"
        )
    result = response.get("response", {})
    if not isinstance(result, dict):
        raise _invalid(f"{at}.response", "must be an object")
    output = result.get("output")
    if set(result) == {"output"} and isinstance(output, str):
        text = output
    else:
        text = json.dumps(result, ensure_ascii=False)
    failed = "error" in result and "output" not in result
    media = response.get("parts")  # a multimodal response's media (Gemini 3, gemini-cli)
    content: str | list[Part] = text
    if media is not None:
        if not isinstance(media, list):
            raise _invalid(f"{at}.parts", "must be a list of parts")
        content = [TextPart(text=text)]
        for k, part in enumerate(media):
            where_k = f"{at}.parts[{k}]"
            item = _media(camel_keys(_object(part, where_k)), where_k)
            if item is not None:
                content.append(item)
    return Message(role="tool", tool_call_id=call_id, content=content, is_error=failed or None)


def _media(part: dict[str, Any], where: str) -> Part | None:
    """An ``inlineData`` or ``fileData`` part's canonical image or document (a data or
    http(s) URL); None for a part that only carries metadata."""
    if "inlineData" in part:
        at = f"{where}.inlineData"
        blob = camel_keys(_object(part["inlineData"], at))
        mime, data = _string(blob, "mimeType", at), _standard_base64(_string(blob, "data", at))
        return _image_or_document(f"data:{mime};base64,{data}", mime)
    if "fileData" in part:
        at = f"{where}.fileData"
        file = camel_keys(_object(part["fileData"], at))
        uri = _string(file, "fileUri", at)
        if not uri.startswith(("https://", "http://")):
            raise _invalid(f"{at}.fileUri", "must be an http(s) URI")
        return _image_or_document(uri, _optional_string(file, "mimeType", at))
    if set(part) <= _METADATA_KEYS:
        return None
    kinds = ", ".join(sorted(set(part) - _METADATA_KEYS))
    raise _invalid(where, f"{kinds} parts are not supported")


def _standard_base64(data: str) -> str:
    """``data`` in the standard base64 alphabet, padded: Google's JSON takes the URL-safe one
    too, unpadded (``google-genai`` sends bytes so), which Anthropic and OpenAI refuse."""
    return data.replace("-", "+").replace("_", "/") + "=" * (-len(data) % 4)


def _image_or_document(url: str, mime: str | None) -> ImagePart | FilePart:
    """An image (an ``image/*`` type, or none said), else a document of that type."""
    if mime is None or mime.startswith("image/"):
        return ImagePart(url=url)
    return FilePart(url=url, mime_type=mime)


# -- tools and generation config ----------------------------------------------------------------


def _tools(tools: Any) -> tuple[list[Tool], list[dict[str, Any]]]:
    """``(function declarations, built-in tools)``: the latter go to a Gemini upstream only."""
    if not isinstance(tools, list):
        raise _invalid("tools", "must be a list")
    declared: list[Tool] = []
    builtin: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        tool = camel_keys(_object(tool, where))
        declarations = tool.get("functionDeclarations")
        if declarations is not None:
            if not isinstance(declarations, list):
                raise _invalid(f"{where}.functionDeclarations", "must be a list")
            for j, declaration in enumerate(declarations):
                declared.append(_declaration(declaration, f"{where}.functionDeclarations[{j}]"))
        rest = {k: v for k, v in tool.items() if k != "functionDeclarations"}
        if rest:
            builtin.append(rest)
    return declared, builtin


def _declaration(declaration: Any, where: str) -> Tool:
    declaration = camel_keys(_object(declaration, where))
    description = declaration.get("description")
    if description is not None and not isinstance(description, str):
        raise _invalid(f"{where}.description", "must be a string")
    tool = Tool(name=_string(declaration, "name", where), description=description)
    if "parametersJsonSchema" in declaration:
        schema = declaration["parametersJsonSchema"]
        if not isinstance(schema, dict):
            raise _invalid(f"{where}.parametersJsonSchema", "must be a JSON schema object")
        tool.parameters = schema
    elif declaration.get("parameters") is not None:
        schema = declaration["parameters"]
        if not isinstance(schema, dict):
            raise _invalid(f"{where}.parameters", "must be a Schema object")
        tool.parameters = json_schema(schema)
    return tool


def json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-subset ``Schema`` as JSON Schema: ``type`` in lower case (``OBJECT``
    -> ``object``), ``nullable: true`` as a ``"null"`` type, ``propertyOrdering`` (a Gemini
    hint) left out; everything else as it is, nested schemas converted the same way."""
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: json_schema(inner) for name, inner in value.items()}
        elif key in _SCHEMA_NESTED:
            out[key] = json_schema(value)
        elif key not in ("nullable", "propertyOrdering"):
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _tool_choice(config: dict[str, Any]) -> ToolChoice | None:
    calling = config.get("functionCallingConfig")
    if calling is None:
        return None
    at = "toolConfig.functionCallingConfig"
    calling = camel_keys(_object(calling, at))
    mode = calling.get("mode", "MODE_UNSPECIFIED")
    if not isinstance(mode, str) or mode.upper() not in _MODES:
        raise _invalid(f"{at}.mode", "must be AUTO, ANY, NONE or VALIDATED")
    choice = _MODES[mode.upper()]
    names = calling.get("allowedFunctionNames")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _invalid(f"{at}.allowedFunctionNames", "must be a list of strings")
        if choice == "required" and len(names) == 1:
            return NamedToolChoice(name=names[0])
    return choice


def _generation_config(config: dict[str, Any]) -> dict[str, Any]:
    """The canonical fields of a ``generationConfig``."""
    out: dict[str, Any] = {}
    for key, field, kind in (
        ("temperature", "temperature", "number"),
        ("topP", "top_p", "number"),
        ("presencePenalty", "presence_penalty", "number"),
        ("frequencyPenalty", "frequency_penalty", "number"),
        ("maxOutputTokens", "max_tokens", "count"),
        ("candidateCount", "n", "count"),
        ("seed", "seed", "integer"),
        ("logprobs", "top_logprobs", "integer"),
    ):
        value = config.get(key)
        if value is None:
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "number" and not number:
            raise _invalid(f"generationConfig.{key}", "must be a number")
        if kind != "number" and not _is_int(value):
            raise _invalid(f"generationConfig.{key}", "must be an integer")
        if kind == "count" and value < 1:
            raise _invalid(f"generationConfig.{key}", "must be at least 1")
        out[field] = value
    stop = config.get("stopSequences")
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise _invalid("generationConfig.stopSequences", "must be a list of strings")
        out["stop"] = stop or None
    logprobs = config.get("responseLogprobs")
    if logprobs is not None:
        if not isinstance(logprobs, bool):
            raise _invalid("generationConfig.responseLogprobs", "must be a boolean")
        out["logprobs"] = logprobs
    response_format = _response_format(config)
    if response_format is not None:
        out["response_format"] = response_format
    thinking = config.get("thinkingConfig")
    if thinking is not None:
        out["reasoning"] = _reasoning(thinking)
    return out


def _response_format(config: dict[str, Any]) -> ResponseFormat | None:
    mime = config.get("responseMimeType")
    if mime is not None and not isinstance(mime, str):
        raise _invalid("generationConfig.responseMimeType", "must be a string")
    schema_key = next(
        (k for k in ("responseJsonSchema", "responseSchema") if config.get(k) is not None), None
    )
    if mime != "application/json":
        if schema_key is not None:
            raise _invalid(
                f"generationConfig.{schema_key}", "needs responseMimeType: application/json"
            )
        return None
    if schema_key is None:
        return ResponseFormat(type="json_object")
    schema = config[schema_key]
    if not isinstance(schema, dict):
        raise _invalid(f"generationConfig.{schema_key}", "must be a schema object")
    if schema_key == "responseSchema":
        schema = json_schema(schema)
    return ResponseFormat(
        type="json_schema", json_schema=JsonSchemaFormat(name="response", schema_=schema)
    )


def _reasoning(thinking: Any) -> Reasoning | None:
    """``thinkingBudget`` (-1: the model decides, so none) and ``thinkingLevel``."""
    at = "generationConfig.thinkingConfig"
    if not isinstance(thinking, dict):
        raise _invalid(at, "must be an object")
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if budget is not None and (not _is_int(budget) or budget < -1):
        raise _invalid(f"{at}.thinkingBudget", "must be an integer, -1 or more")
    effort: Any = None
    if level is not None:
        if not isinstance(level, str):
            raise _invalid(f"{at}.thinkingLevel", "must be a string")
        lowered = level.lower()
        if lowered in _LEVELS:
            effort = lowered
        elif lowered != "thinking_level_unspecified":
            raise _invalid(f"{at}.thinkingLevel", "must be MINIMAL, LOW, MEDIUM or HIGH")
    tokens = budget if budget is not None and budget >= 0 else None
    if effort is None and tokens is None:
        return None
    return Reasoning(effort=effort, budget_tokens=tokens)


# -- helpers ----------------------------------------------------------------------------------


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(where or "body", "must be an object")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


__all__ = [
    "camel_keys",
    "count_request_from_gemini",
    "embedding_request_from_gemini",
    "json_schema",
    "request_from_gemini",
]
