"""Validate JSON against a schema of OpenAI's OpenAPI description
(``tests/conformance/openai-openapi.yaml``)::

    validator_for("CreateChatCompletionResponse").validate(body)   # raises ValidationError
    assert_valid("CreateChatCompletionStreamResponse", chunk)     # a readable assertion

The spec is OpenAPI 3.1 but still writes OpenAPI 3.0's ``nullable: true`` in places (every
stream chunk's ``finish_reason: null`` depends on it); those are rewritten into JSON Schema's
``anyOf [..., {type: null}]`` once, when the spec is loaded. ``$ref`` resolves within the spec.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.fakes.cassettes import CONFORMANCE_DIR

SPEC_PATH = CONFORMANCE_DIR / "openai-openapi.yaml"
_SPEC_URI = "urn:openai-openapi"


@functools.cache
def spec() -> dict[str, Any]:
    """The whole document, parsed once, ``nullable`` rewritten (do not modify it)."""
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parsed = yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=loader)
    converted: dict[str, Any] = _without_nullable(parsed)
    return converted


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
    return registry


@functools.cache
def validator_for(name: str) -> Draft202012Validator:
    """A validator for ``components/schemas/<name>`` (KeyError if the spec has no such schema)."""
    if name not in spec()["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in {SPEC_PATH.name}")
    schema = {"$ref": f"{_SPEC_URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=_registry())


def assert_valid(name: str, instance: Any) -> None:
    """Fail with the most relevant schema error and where it is."""
    error = best_match(validator_for(name).iter_errors(instance))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise AssertionError(f"not a valid {name} at {where}: {error.message}")


def _without_nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _without_nullable(value) for key, value in node.items()}
    if converted.get("nullable") is True:
        del converted["nullable"]
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


__all__ = ["SPEC_PATH", "assert_valid", "spec", "validator_for"]
