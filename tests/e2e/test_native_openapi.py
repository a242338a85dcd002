"""The native API's OpenAPI 3.1 document and its docs page, offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Route, WebSocketRoute

from switchyard.doors.native.complete import CompleteRequest, CompleteResponse
from tests.e2e.served import ServedGateway, serve

KEY = "sk-openapi-master"
CONFIG = {
    "server": {"master_key": KEY},
    "providers": {"a": {"type": "fake", "reply": "hi"}},
    "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "gpt-4.1"}]}],
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def served() -> Iterator[ServedGateway]:
    with serve(CONFIG) as s:
        yield s


@pytest.fixture(scope="module")
def document(served: ServedGateway) -> dict[str, Any]:
    reply = httpx.get(f"{served.url}/api/v1/openapi.json")  # no key: the description is public
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert isinstance(body, dict)
    return body


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_document_is_a_structurally_valid_openapi_3_1_document(
    document: dict[str, Any],
) -> None:
    # openapi-spec-validator is not installed: the 3.1 rules checked here, and every schema
    # against the JSON Schema 2020-12 meta-schema (OpenAPI 3.1's schema dialect)
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] and document["info"]["version"]
    assert set(document) <= {
        "openapi",
        "info",
        "jsonSchemaDialect",
        "servers",
        "paths",
        "webhooks",
        "components",
        "security",
        "tags",
        "externalDocs",
    }
    schemas = document["components"]["schemas"]
    for name, schema in schemas.items():
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name), name
        Draft202012Validator.check_schema(schema)
    for scheme in document["components"]["securitySchemes"].values():
        assert scheme["type"] in {"apiKey", "http", "oauth2", "openIdConnect", "mutualTLS"}
    for requirement in document["security"]:
        assert set(requirement) <= set(document["components"]["securitySchemes"])
    operation_ids: set[str] = set()
    for path, item in document["paths"].items():
        assert path.startswith("/")
        templated = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            assert method in HTTP_METHODS
            assert operation["responses"], (path, method)
            for status in operation["responses"]:
                assert status == "default" or re.fullmatch(r"[1-5](\d\d|XX)", status)
                assert "description" in operation["responses"][status]
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == templated, (path, method)
            for parameter in operation.get("parameters", []):
                assert parameter["required"] is True
            if "operationId" in operation:
                assert operation["operationId"] not in operation_ids
                operation_ids.add(operation["operationId"])
    # every reference resolves to a component
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_every_native_route_of_the_app_is_in_the_document(
    served: ServedGateway, document: dict[str, Any]
) -> None:
    from switchyard.server.app import create_app

    app = create_app(served.gateway)
    expected: set[tuple[str, str]] = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/api/v1"):
            continue
        template = re.sub(r"{([^}:]+)(:[^}]+)?}", r"{\1}", path)
        if isinstance(route, WebSocketRoute):
            expected.add((template, "get"))
        elif isinstance(route, Route):
            expected |= {(template, m.lower()) for m in route.methods or () if m != "HEAD"}
    documented = {(p, m) for p, item in document["paths"].items() for m in item}
    assert expected == documented
    assert ("/api/v1/complete/ws", "get") in documented


def test_the_schemas_are_the_handlers_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    request = document["paths"]["/api/v1/complete"]["post"]["requestBody"]
    assert request["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CompleteRequest"
    }
    assert set(schemas["CompleteRequest"]["properties"]) == set(CompleteRequest.model_fields)
    assert set(schemas["CompleteResponse"]["required"]) >= {"id", "text", "usage", "capabilities"}
    assert set(schemas["CompleteResponse"]["properties"]) == set(CompleteResponse.model_fields)
    stream = document["paths"]["/api/v1/complete/stream"]["post"]["responses"]["200"]
    assert "text/event-stream" in stream["content"]
    error_types = schemas["ErrorDetail"]["properties"]["type"]["enum"]
    assert set(error_types) == {
        "PROVIDER_ERROR",
        "RATE_LIMIT",
        "CONTEXT_LENGTH",
        "INVALID_REQUEST",
        "MODEL_NOT_FOUND",
        "TIMEOUT",
        "UNKNOWN",
    }


def test_a_real_answer_validates_against_the_documents_schema(
    served: ServedGateway, document: dict[str, Any]
) -> None:
    reply = httpx.post(
        f"{served.url}/api/v1/complete",
        json={"prompt": "hi"},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    schema = {"$ref": "#/components/schemas/CompleteResponse", **document}
    Draft202012Validator(schema).validate(reply.json())
    error = httpx.post(
        f"{served.url}/api/v1/complete", json={}, headers={"Authorization": f"Bearer {KEY}"}
    )
    Draft202012Validator({"$ref": "#/components/schemas/ErrorBody", **document}).validate(
        error.json()
    )


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


def test_the_docs_page_is_self_contained_and_reads_the_document(served: ServedGateway) -> None:
    reply = httpx.get(f"{served.url}/docs")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    page = _Assets()
    page.feed(reply.text)
    assert page.scripts == 1  # inline: nothing fetched from elsewhere
    assert all(url.startswith("/") for url in page.urls), page.urls
    assert 'fetch("/api/v1/openapi.json")' in reply.text
    assert "http://" not in reply.text and "https://" not in reply.text
