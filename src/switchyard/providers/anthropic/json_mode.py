"""JSON replies from a model that has no JSON flag: instruct, then check.

Anthropic's Messages API has no ``json_object`` switch, so a request whose ``response_format``
is ``json_object`` or ``json_schema`` gets an instruction appended to the system prompt (for a
schema, the schema itself, as Anthropic's "increase output consistency" guide suggests), and the
reply is checked: text that does not parse as JSON (for ``json_object``: as a JSON object) is an
``UpstreamProtocolError``, which is retryable, so the gateway tries again or fails over. Only a
reply that finished normally is checked; one cut short by ``max_tokens`` reaches the caller with
``finish_reason: length``, as with OpenAI. The schema is not enforced beyond parsing.

This works the same for plain and streamed replies and alongside the caller's own tools, which
forcing a schema-shaped tool would not (it takes over ``tool_choice`` and is refused with
extended thinking).
"""

from __future__ import annotations

import orjson

from switchyard.errors import UpstreamProtocolError
from switchyard.types import ResponseFormat

_OBJECT_INSTRUCTION = (
    "Respond with a single valid JSON object and nothing else: no prose before or after it "
    "and no Markdown code fences."
)
_SCHEMA_INSTRUCTION = (
    "Respond with a single valid JSON value that conforms to the JSON Schema below, and "
    "nothing else: no prose before or after it and no Markdown code fences."
)


def wants_json(fmt: ResponseFormat | None) -> bool:
    return fmt is not None and fmt.type in ("json_object", "json_schema")


def json_instruction(fmt: ResponseFormat | None) -> str | None:
    """The system-prompt instruction for ``fmt``, or None for plain text."""
    if fmt is None or not wants_json(fmt):
        return None
    spec = fmt.json_schema
    if fmt.type == "json_object" or spec is None:
        return _OBJECT_INSTRUCTION
    lines = [_SCHEMA_INSTRUCTION, f"Schema name: {spec.name}"]
    if spec.description:
        lines.append(f"Schema description: {spec.description}")
    schema = spec.schema_ if spec.schema_ is not None else {}
    lines.append("<schema>\n" + orjson.dumps(schema).decode() + "\n</schema>")
    return "\n".join(lines)


def check_json_reply(text: str, fmt: ResponseFormat | None, provider: str | None) -> None:
    """Raise ``UpstreamProtocolError`` when ``fmt`` asked for JSON and ``text`` is not."""
    if fmt is None or not wants_json(fmt):
        return
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UpstreamProtocolError(
            f"the model was asked for JSON but answered something else: {text[:120]!r}",
            provider=provider,
        ) from exc
    if fmt.type == "json_object" and not isinstance(value, dict):
        raise UpstreamProtocolError(
            "the model was asked for a JSON object but answered another JSON value",
            provider=provider,
        )


__all__ = ["check_json_reply", "json_instruction", "wants_json"]
