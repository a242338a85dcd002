"""Reading callers' OpenAI chat-completions requests into canonical :class:`ChatRequest`.

One pass: structure (messages, parts, tools, tool calls, formats) is checked while it is
translated, so an error names the caller's own path (``messages[1].content[0].image_url.url``),
and the canonical model is validated once, in strict mode, for the scalars; a pydantic error
is mapped back to the caller's path. Then the ranges OpenAI's reference states are checked.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from switchyard.errors import InvalidRequest
from switchyard.formats.request_fields import data_url_type
from switchyard.formats.template_ref import names_template, template_ref
from switchyard.types import ChatRequest

# Top-level keys copied as they are into the canonical request (null means "not set").
_SCALARS = frozenset(
    {
        "temperature",
        "top_p",
        "seed",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "user",
        "metadata",
        "parallel_tool_calls",
    }
)
_Fields = tuple[tuple[str, type], ...]  # (key, the type its value must have)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_GATEWAY_CONTROLS = frozenset({"cache", "timeout", "fallbacks", "tags", "prefer", "template"})
_IMAGE_DETAILS = frozenset({"auto", "low", "high"})
_UNSUPPORTED_PARTS = frozenset({"input_audio"})
# Message keys accepted and dropped: response-only data SDKs echo back in the history.
_IGNORED_MESSAGE_KEYS = frozenset({"annotations"})
# (field, low, high) as OpenAI's API reference bounds them; None leaves a side open.
_RANGES: tuple[tuple[str, float | None, float | None], ...] = (
    ("temperature", 0, 2),
    ("top_p", 0, 1),
    ("presence_penalty", -2, 2),
    ("frequency_penalty", -2, 2),
    ("n", 1, 128),
    ("top_logprobs", 0, 20),
    ("max_tokens", 1, None),
)


# -- caller -> canonical ----------------------------------------------------------------------


def request_from_openai(body: dict[str, Any]) -> ChatRequest:
    """An OpenAI ``POST /chat/completions`` body as a canonical :class:`ChatRequest`.

    Unknown top-level keys (``logit_bias``, ``service_tier``, ``reasoning_effort``, ...) go to
    ``extra`` verbatim; gateway controls come from a nested ``"switchyard": {cache, timeout,
    fallbacks, tags, prefer, template}`` object (with a ``template``, ``messages`` may be
    empty or left out: the template's messages come first). Raises
    :class:`InvalidRequest` whose ``param`` is the OpenAI-style path of the offending field.
    """
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", param=None)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _invalid("model", "is required and must be a non-empty string")
    raw_messages = body.get("messages")
    templated = names_template(body.get("switchyard"))  # then the template's messages lead
    if raw_messages is None and templated:
        raw_messages = []
    if not isinstance(raw_messages, list) or not (raw_messages or templated):
        raise _invalid("messages", "is required and must be a non-empty array")

    data: dict[str, Any] = {
        "model": model,
        "messages": [_message(raw, i) for i, raw in enumerate(raw_messages)],
    }
    extra: dict[str, Any] = {}
    renames: dict[str, str] = {}
    for key, value in body.items():
        if key in _SCALARS:
            if value is not None:
                data[key] = value
        elif key == "model" or key == "messages":
            continue
        elif key == "max_tokens" or key == "max_completion_tokens":
            if value is not None and ("max_tokens" not in data or key == "max_completion_tokens"):
                data["max_tokens"] = value
                renames["max_tokens"] = key
        elif key == "stream":
            if value is not None:
                data["stream"] = value
        elif key == "stream_options":
            _stream_options(value, data, extra, renames)
        elif key == "stop":
            if value is not None:
                data["stop"] = [value] if isinstance(value, str) else value
        elif key == "tools":
            if value is not None:
                data["tools"] = _tools(value)
        elif key == "tool_choice":
            if value is not None:
                data["tool_choice"] = _tool_choice(value)
        elif key == "response_format":
            if value is not None:
                data["response_format"] = _response_format(value)
        elif key == "switchyard":
            _gateway_controls(value, data, renames)
        else:
            extra[key] = value
    if extra:
        data["extra"] = extra

    try:
        request = ChatRequest.model_validate(data, strict=True)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        param = _param_from_loc(error["loc"], renames)
        raise _invalid(param, error["msg"].lower()) from exc
    for field, low, high in _RANGES:
        value = getattr(request, field)
        if value is not None and (
            (low is not None and value < low) or (high is not None and value > high)
        ):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise _invalid(renames.get(field, field), f"must be {bound}, got {value}")
    return request


def _message(raw: Any, i: int) -> dict[str, Any]:
    path = f"messages[{i}]"
    if not isinstance(raw, dict):
        raise _invalid(path, "must be an object")
    role = raw.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        if role == "function":
            raise _invalid(f"{path}.role", "'function' messages are deprecated; use 'tool'")
        raise _invalid(f"{path}.role", f"must be one of {sorted(_ROLES)}, got {role!r}")
    out: dict[str, Any] = {"role": role}
    for key, value in raw.items():
        if key == "role":
            continue
        if key == "content":
            out["content"] = _content(value, role, path, out)
        elif key == "name":
            if value is not None:
                out["name"] = value
        elif key == "tool_call_id" and role == "tool":
            out["tool_call_id"] = value
        elif key == "tool_calls" and role == "assistant":
            if value:
                out["tool_calls"] = _tool_calls(value, path)
        elif key in ("reasoning_content", "reasoning") and role == "assistant":
            if value is not None:
                out["reasoning"] = value
        elif key == "refusal" and role == "assistant":
            if value is not None:
                out["refusal"] = value
        elif value is None or key in _IGNORED_MESSAGE_KEYS:
            continue
        else:
            raise _invalid(f"{path}.{key}", f"is not supported in a {role!r} message")
    if role != "assistant" and out.get("content") is None:
        raise _invalid(f"{path}.content", f"is required in a {role!r} message")
    if role == "tool" and not isinstance(out.get("tool_call_id"), str):
        raise _invalid(f"{path}.tool_call_id", "is required in a 'tool' message")
    return out


def _content(value: Any, role: str, path: str, message: dict[str, Any]) -> Any:
    if value is None or isinstance(value, str):
        return value
    path = f"{path}.content"
    if not isinstance(value, list) or not value:
        raise _invalid(path, "must be a string or a non-empty array of content parts")
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(value):
        part_path = f"{path}[{j}]"
        if not isinstance(part, dict):
            raise _invalid(part_path, "must be an object")
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise _invalid(f"{part_path}.text", "must be a string")
            parts.append({"type": "text", "text": text})
        elif kind == "image_url":
            if role != "user":
                raise _invalid(f"{part_path}.type", f"images are not allowed in {role!r} messages")
            parts.append(_image(part.get("image_url"), part_path))
        elif kind == "file":
            if role != "user":
                raise _invalid(f"{part_path}.type", f"files are not allowed in {role!r} messages")
            parts.append(_file(part.get("file"), part_path))
        elif kind == "refusal" and role == "assistant":
            refusal = part.get("refusal")
            if not isinstance(refusal, str):
                raise _invalid(f"{part_path}.refusal", "must be a string")
            message["refusal"] = message.get("refusal", "") + refusal
        elif isinstance(kind, str) and kind in _UNSUPPORTED_PARTS:
            raise _invalid(f"{part_path}.type", f"{kind!r} content parts are not supported yet")
        else:
            raise _invalid(f"{part_path}.type", f"unknown content part type {kind!r}")
    return parts or None


def _image(image: Any, path: str) -> dict[str, Any]:
    path = f"{path}.image_url"
    if not isinstance(image, dict):
        raise _invalid(path, "must be an object with a 'url'")
    url = image.get("url")
    if not isinstance(url, str) or not url:
        raise _invalid(f"{path}.url", "must be a non-empty string")
    detail = image.get("detail")
    if detail is None:
        return {"type": "image", "url": url}
    if not isinstance(detail, str) or detail not in _IMAGE_DETAILS:
        raise _invalid(f"{path}.detail", f"must be one of 'auto', 'low', 'high', got {detail!r}")
    return {"type": "image", "url": url, "detail": detail}


def _file(file: Any, path: str) -> dict[str, Any]:
    """A ``file`` part's document: its ``file_data`` (a data: URL) and ``filename``."""
    path = f"{path}.file"
    if not isinstance(file, dict):
        raise _invalid(path, "must be an object with 'file_data'")
    if file.get("file_id") is not None:
        raise _invalid(
            f"{path}.file_id",
            "uploaded files cannot be resolved by the gateway; send the file's bytes as "
            "'file_data' (data:application/pdf;base64,...)",
        )
    data = file.get("file_data")
    mime_type = data_url_type(data) if isinstance(data, str) else None
    if mime_type is None:
        raise _invalid(f"{path}.file_data", "must be a data URL (data:application/pdf;base64,...)")
    filename = file.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise _invalid(f"{path}.filename", "must be a string")
    return {"type": "file", "url": data, "mime_type": mime_type, "filename": filename}


def _tool_calls(value: Any, path: str) -> list[dict[str, Any]]:
    path = f"{path}.tool_calls"
    if not isinstance(value, list):
        raise _invalid(path, "must be an array")
    calls: list[dict[str, Any]] = []
    for j, call in enumerate(value):
        call_path = f"{path}[{j}]"
        if not isinstance(call, dict):
            raise _invalid(call_path, "must be an object")
        if call.get("type", "function") != "function":
            raise _invalid(f"{call_path}.type", "only 'function' tool calls are supported")
        function = call.get("function")
        if not isinstance(function, dict):
            raise _invalid(f"{call_path}.function", "must be an object")
        call_id, name = call.get("id"), function.get("name")
        arguments = function.get("arguments", "")
        if not isinstance(call_id, str):
            raise _invalid(f"{call_path}.id", "must be a string")
        if not isinstance(name, str):
            raise _invalid(f"{call_path}.function.name", "must be a string")
        if not isinstance(arguments, str):
            raise _invalid(f"{call_path}.function.arguments", "must be a string of JSON")
        calls.append({"id": call_id, "name": name, "arguments": arguments})
    return calls


def _tools(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _invalid("tools", "must be an array")
    tools: list[dict[str, Any]] = []
    for j, tool in enumerate(value):
        path = f"tools[{j}]"
        if not isinstance(tool, dict):
            raise _invalid(path, "must be an object")
        if tool.get("type") != "function":
            raise _invalid(f"{path}.type", "only 'function' tools are supported")
        function = tool.get("function")
        if not isinstance(function, dict):
            raise _invalid(f"{path}.function", "must be an object")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise _invalid(f"{path}.function.name", "must be a non-empty string")
        fields = (("description", str), ("parameters", dict), ("strict", bool))
        tools.append({"name": name, **_typed_fields(function, fields, f"{path}.function")})
    return tools


def _tool_choice(value: Any) -> Any:
    if value in ("auto", "none", "required"):
        return value
    if isinstance(value, dict) and value.get("type") == "function":
        function = value.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise _invalid("tool_choice.function.name", "must be a non-empty string")
        return {"name": name}
    raise _invalid(
        "tool_choice", "must be 'auto', 'none', 'required' or {type: 'function', function: {name}}"
    )


def _response_format(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid("response_format", "must be an object")
    kind = value.get("type")
    if kind == "text" or kind == "json_object":
        return {"type": kind}
    if kind != "json_schema":
        raise _invalid("response_format.type", "must be 'text', 'json_object' or 'json_schema'")
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise _invalid("response_format.json_schema", "must be an object")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise _invalid("response_format.json_schema.name", "must be a non-empty string")
    fields = (("schema", dict), ("description", str), ("strict", bool))
    out = {"name": name, **_typed_fields(spec, fields, "response_format.json_schema")}
    return {"type": "json_schema", "json_schema": out}


def _typed_fields(source: dict[str, Any], fields: _Fields, path: str) -> dict[str, Any]:
    """The ``fields`` that ``source`` sets (null: not set), each checked for its type."""
    out: dict[str, Any] = {}
    for key, expected in fields:
        item = source.get(key)
        if item is None:
            continue
        if not isinstance(item, expected):
            raise _invalid(f"{path}.{key}", f"must be a {expected.__name__}")
        out[key] = item
    return out


def _stream_options(
    value: Any, data: dict[str, Any], extra: dict[str, Any], renames: dict[str, str]
) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _invalid("stream_options", "must be an object")
    rest = {key: item for key, item in value.items() if key != "include_usage"}
    if value.get("include_usage") is not None:
        data["include_usage"] = value["include_usage"]
        renames["include_usage"] = "stream_options.include_usage"
    if rest:
        extra["stream_options"] = rest


def _gateway_controls(value: Any, data: dict[str, Any], renames: dict[str, str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _invalid("switchyard", "must be an object")
    for key, item in value.items():
        if key not in _GATEWAY_CONTROLS:
            raise _invalid(
                f"switchyard.{key}", f"unknown; expected one of {sorted(_GATEWAY_CONTROLS)}"
            )
        if key == "template" and item is not None:
            data[key] = template_ref(item, "switchyard.template")
        elif item is not None:
            data[key] = item
            renames[key] = f"switchyard.{key}"


def _param_from_loc(loc: tuple[int | str, ...], renames: dict[str, str]) -> str:
    head = str(loc[0])
    path = renames.get(head, head)
    for item in loc[1:]:
        path += f"[{item}]" if isinstance(item, int) else f".{item}"
    return path


def _invalid(param: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid '{param}': {problem}.", param=param)


__all__ = ["request_from_openai"]
