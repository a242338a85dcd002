"""The variables' JSON Schema subset: every verdict agrees with ``jsonschema`` (the reference
implementation, a test dependency only), and a keyword outside the subset is refused when the
template is defined, never silently ignored."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from switchyard.templates.schema import SchemaViolation, check_schema, validate

ARTICLE = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 20},
        "words": {"type": "integer", "minimum": 5, "exclusiveMaximum": 100},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "tone": {"enum": ["dry", "warm", None]},
        "lang": {"type": ["string", "null"], "pattern": "^[a-z]{2}$"},
        "kind": {"const": "essay"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "author": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
            "additionalProperties": False,
        },
        "extra": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "flag": {"type": "boolean"},
    },
    "required": ["text"],
    "additionalProperties": False,
}

INSTANCES: list[dict[str, Any]] = [
    {"text": "hello"},
    {},
    {"text": ""},
    {"text": "x" * 21},
    {"text": 3},
    {"text": "a", "words": 5},
    {"text": "a", "words": 4},
    {"text": "a", "words": 100},
    {"text": "a", "words": 99.0},  # an integer-valued float is an integer
    {"text": "a", "words": 7.5},
    {"text": "a", "words": True},  # a boolean is not a number
    {"text": "a", "ratio": 0},
    {"text": "a", "ratio": 1},
    {"text": "a", "ratio": 0.5},
    {"text": "a", "tone": "warm"},
    {"text": "a", "tone": None},
    {"text": "a", "tone": "angry"},
    {"text": "a", "lang": "sv"},
    {"text": "a", "lang": None},
    {"text": "a", "lang": "swe"},
    {"text": "a", "kind": "essay"},
    {"text": "a", "kind": "poem"},
    {"text": "a", "tags": ["x"]},
    {"text": "a", "tags": []},
    {"text": "a", "tags": ["a", "b", "c", "d"]},
    {"text": "a", "tags": ["a", 1]},
    {"text": "a", "author": {"name": "Ada"}},
    {"text": "a", "author": {}},
    {"text": "a", "author": {"name": "Ada", "age": 36}},
    {"text": "a", "extra": {"x": True}},
    {"text": "a", "extra": {"x": 1}},
    {"text": "a", "flag": 0},
    {"text": "a", "unknown": 1},
]


@pytest.mark.parametrize("instance", INSTANCES)
def test_the_subset_agrees_with_jsonschema(instance: dict[str, Any]) -> None:
    check_schema(ARTICLE)
    expected = jsonschema.Draft202012Validator(ARTICLE).is_valid(instance)
    try:
        validate(instance, ARTICLE)
    except SchemaViolation:
        assert not expected, f"refused a valid instance {instance!r}"
    else:
        assert expected, f"accepted an invalid instance {instance!r}"


def test_a_violation_names_the_path_to_the_value() -> None:
    with pytest.raises(SchemaViolation) as caught:
        validate({"text": "a", "tags": ["a", 1]}, ARTICLE)
    assert caught.value.path == ".tags[1]"
    with pytest.raises(SchemaViolation) as caught:
        validate({"text": "a", "author": {}}, ARTICLE)
    assert caught.value.path == ".author.name"
    assert caught.value.problem == "is required"


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"anyOf": [{"type": "string"}]}, ".anyOf"),
        ({"properties": {"x": {"$ref": "#/defs/x"}}}, ".properties.x.$ref"),
        ({"type": "text"}, ".type"),
        ({"type": []}, ".type"),
        ({"minLength": -1}, ".minLength"),
        ({"maximum": "10"}, ".maximum"),
        ({"pattern": "("}, ".pattern"),
        ({"items": [{"type": "string"}]}, ".items"),
        ({"required": "text"}, ".required"),
        ({"additionalProperties": "no"}, ".additionalProperties"),
        ({"properties": {"a": {"format": "email"}}}, ".properties.a.format"),
    ],
)
def test_a_schema_outside_the_subset_is_refused_naming_the_keyword(
    schema: dict[str, Any], path: str
) -> None:
    with pytest.raises(SchemaViolation) as caught:
        check_schema(schema)
    assert caught.value.path == path


def test_annotations_are_accepted_and_change_nothing() -> None:
    schema = {"title": "t", "description": "d", "$schema": "x", "default": 1, "type": "object"}
    check_schema(schema)
    validate({}, schema)
    with pytest.raises(SchemaViolation):
        validate([], schema)


def test_schemas_nest_only_so_deep() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(20):
        schema = {"type": "array", "items": schema}
    with pytest.raises(SchemaViolation, match="nest"):
        check_schema(schema)
