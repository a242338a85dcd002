"""A template's variables checked against its JSON Schema: a small, strict subset of the standard.

``jsonschema`` is only a test dependency of the gateway, so the core validates the keywords a
variables schema needs, and nothing else:

- ``type`` (a name or a list of names: ``string``, ``number``, ``integer``, ``boolean``,
  ``array``, ``object``, ``null``; an integer-valued float is an ``integer``, a boolean is
  never a number), ``enum``, ``const``;
- strings: ``minLength``, ``maxLength``, ``pattern`` (Python's ``re.search``);
- numbers: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum`` (numbers, as
  in draft 6 and later);
- arrays: ``items`` (one schema), ``minItems``, ``maxItems``;
- objects: ``properties``, ``required``, ``additionalProperties`` (a boolean or a schema);
- annotations, which change nothing: ``title``, ``description``, ``default``, ``examples``,
  ``$schema``, ``$id``, ``$comment``.

Any other keyword (``anyOf``, ``$ref``, ``format``, ...) is refused when the template is
defined (:func:`check_schema`), never silently ignored: a schema the gateway would only half
apply is worse than none. ``tests/templates/test_schema.py`` holds the subset to ``jsonschema``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$schema", "$id", "$comment"}
)
_COUNTS = ("minLength", "maxLength", "minItems", "maxItems")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
KEYWORDS = frozenset(
    {"type", "enum", "const", "pattern", "items", "properties", "required"}
    | {"additionalProperties", *_COUNTS, *_BOUNDS}
    | ANNOTATIONS
)
MAX_DEPTH = 16  # nested schemas (objects in arrays in objects ...)


class SchemaViolation(ValueError):
    """``path`` is where in the checked value (or the schema) the problem is: ``.text``,
    ``.items[2]``; empty for the value itself."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or 'value'}: {problem}")
        self.path = path
        self.problem = problem


def check_schema(schema: Any, path: str = "", depth: int = 0) -> None:
    """Refuse a schema outside the subset, naming the keyword at fault (``path``)."""
    if not isinstance(schema, dict):
        raise SchemaViolation(path, "a schema must be an object")
    if depth > MAX_DEPTH:
        raise SchemaViolation(path, f"schemas nest at most {MAX_DEPTH} deep")
    for key, value in schema.items():
        where = f"{path}.{key}"
        if key not in KEYWORDS:
            raise SchemaViolation(where, "keyword not supported (see the README's list)")
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if not names or any(not isinstance(n, str) or n not in TYPES for n in names):
                raise SchemaViolation(where, f"must be one of {sorted(TYPES)} or a list of them")
        elif key == "enum" and not isinstance(value, list):
            raise SchemaViolation(where, "must be a list")
        elif key in _COUNTS and not _count(value):
            raise SchemaViolation(where, "must be a non-negative integer")
        elif key in _BOUNDS and not _number(value):
            raise SchemaViolation(where, "must be a number")
        elif key == "pattern":
            if not isinstance(value, str):
                raise SchemaViolation(where, "must be a string")
            try:
                re.compile(value)
            except re.error as exc:
                raise SchemaViolation(where, f"not a regular expression: {exc}") from None
        elif key == "items":
            check_schema(value, where, depth + 1)
        elif key == "properties":
            if not isinstance(value, dict):
                raise SchemaViolation(where, "must be an object of schemas")
            for name, sub in value.items():
                check_schema(sub, f"{where}.{name}", depth + 1)
        elif key == "required":
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise SchemaViolation(where, "must be a list of names")
        elif key == "additionalProperties" and not isinstance(value, bool):
            check_schema(value, where, depth + 1)


def validate(value: Any, schema: Mapping[str, Any], path: str = "") -> None:
    """Raise :class:`SchemaViolation` at the first place ``value`` breaks ``schema`` (a schema
    :func:`check_schema` accepted)."""
    kinds = schema.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        if not any(is_type(value, name) for name in names):
            raise SchemaViolation(path, f"must be of type {' or '.join(names)}")
    if "enum" in schema and not any(_equal(value, item) for item in schema["enum"]):
        raise SchemaViolation(path, f"must be one of {schema['enum']!r}")
    if "const" in schema and not _equal(value, schema["const"]):
        raise SchemaViolation(path, f"must be {schema['const']!r}")
    if isinstance(value, str):
        _string(value, schema, path)
    elif _number(value):
        _numeric(value, schema, path)
    elif isinstance(value, list):
        _array(value, schema, path)
    elif isinstance(value, dict):
        _object(value, schema, path)


def is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "number":
        return _number(value)
    if name == "integer":
        return _number(value) and (isinstance(value, int) or float(value).is_integer())
    if name == "boolean":
        return isinstance(value, bool)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return value is None


def _string(value: str, schema: Mapping[str, Any], path: str) -> None:
    if len(value) < schema.get("minLength", 0):
        raise SchemaViolation(path, f"must be at least {schema['minLength']} characters long")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaViolation(path, f"must be at most {schema['maxLength']} characters long")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        raise SchemaViolation(path, f"must match the pattern {schema['pattern']!r}")


def _numeric(value: float, schema: Mapping[str, Any], path: str) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise SchemaViolation(path, f"must be at least {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        raise SchemaViolation(path, f"must be at most {schema['maximum']}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        raise SchemaViolation(path, f"must be more than {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        raise SchemaViolation(path, f"must be less than {schema['exclusiveMaximum']}")


def _array(value: list[Any], schema: Mapping[str, Any], path: str) -> None:
    if len(value) < schema.get("minItems", 0):
        raise SchemaViolation(path, f"must have at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise SchemaViolation(path, f"must have at most {schema['maxItems']} items")
    items = schema.get("items")
    if items is not None:
        for i, item in enumerate(value):
            validate(item, items, f"{path}[{i}]")


def _object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> None:
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaViolation(f"{path}.{name}", "is required")
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        where = f"{path}.{name}"
        if name in properties:
            validate(item, properties[name], where)
        elif extra is False:
            raise SchemaViolation(where, "is not allowed (additionalProperties is false)")
        elif isinstance(extra, dict):
            validate(item, extra, where)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _equal(left: Any, right: Any) -> bool:
    """JSON equality: ``1 == 1.0``, but ``True`` is not ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            _equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    return bool(left == right)


__all__ = ["KEYWORDS", "SchemaViolation", "check_schema", "is_type", "validate"]
