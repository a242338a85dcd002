"""JSON schema output for a service that only has JSON mode: ask for the schema in the system
prompt, send ``response_format: json_object``, and check that the reply parses.

The schema is not enforced by the upstream in this mode, so the reply is only checked to be
JSON (a reply that is not is an ``UpstreamProtocolError``, which the gateway may retry
elsewhere); validating it against the schema is left to the caller, as with OpenAI's
non-strict schemas.
"""

from __future__ import annotations

import orjson

from switchyard.errors import UpstreamProtocolError
from switchyard.types import ChatRequest, Message, ResponseFormat

_INSTRUCTION = (
    "Answer with one JSON value and nothing else (no prose, no code fences). "
    "It must conform to this JSON schema{name}:\n{schema}"
)


def schema_instruction(request: ChatRequest) -> str:
    """The system-prompt text that asks for the request's JSON schema."""
    spec = request.response_format.json_schema if request.response_format else None
    if spec is None:
        return _INSTRUCTION.format(name="", schema="{}")
    schema = orjson.dumps(spec.schema_ or {}, option=orjson.OPT_SORT_KEYS).decode()
    name = f" ({spec.name}{': ' + spec.description if spec.description else ''})"
    return _INSTRUCTION.format(name=name, schema=schema)


def with_schema_in_prompt(request: ChatRequest) -> ChatRequest:
    """``request`` in JSON mode with its schema asked for in the system prompt: appended to a
    leading plain-text system message, or as a new first system message."""
    instruction = schema_instruction(request)
    messages = list(request.messages)
    first = messages[0] if messages else None
    if first is not None and first.role == "system" and isinstance(first.content, str):
        messages[0] = first.model_copy(update={"content": f"{first.content}\n\n{instruction}"})
    else:
        messages.insert(0, Message(role="system", content=instruction))
    return request.model_copy(
        update={"messages": messages, "response_format": ResponseFormat(type="json_object")}
    )


def require_json(text: str, provider: str) -> None:
    """Raise ``UpstreamProtocolError`` unless ``text`` parses as JSON."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError(
            f"upstream was asked for JSON matching a schema and answered {text[:120]!r}",
            provider=provider,
        ) from exc


__all__ = ["require_json", "schema_instruction", "with_schema_in_prompt"]
