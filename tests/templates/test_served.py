"""Prompt templates through the served gateway: versions made through the admin API (never
overwritten) on SQLite and PostgreSQL, and used from every door with the official SDKs
(``extra_body={"switchyard": {"template": ...}}``) and the native REST API; every refusal is
the door's typed error naming the field, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
from websockets.sync.client import connect

from switchyard.tenancy.settings import KeySpec
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider

MASTER = "sk-master-templates-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
TEMPLATES = "/api/v1/admin/templates"
CONFIGURED: dict[str, Any] = {
    "name": "greet",
    "description": "from the config",
    "template": "Hello {{ who }}!",
}


def config(url: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "server": {"master_key": MASTER},
        **({"storage": {"url": url, "flush_seconds": 0.05}} if url else {}),
        "providers": {"a": {"type": "fake"}},  # answers with the last user message
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
        "templates": [CONFIGURED],
        **({"tenants": [{"name": "acme"}]} if url else {}),
        **extra,
    }


@pytest.fixture
def served(sqlite_url: str) -> Iterator[ServedGateway]:
    with serve(config(sqlite_url, template_limits={"max_output_chars": 2000})) as s:
        yield s


def admin(served: ServedGateway) -> httpx.Client:
    return httpx.Client(base_url=served.url, headers=ADMIN, timeout=10)


def create(client: httpx.Client, **definition: Any) -> dict[str, Any]:
    response = client.post(TEMPLATES, json=definition)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def summarise(client: httpx.Client) -> None:
    """Two versions of ``summarise``: v1 wants ``text`` and ``words``, v2 only ``text``."""
    create(
        client,
        name="summarise",
        system="Answer in {{ words }} words.",
        template="Summarise: {{ text }}",
    )
    create(
        client,
        name="summarise",
        template="TL;DR {{ text|upper }}",
        schema={"type": "object", "properties": {"text": {"type": "string", "maxLength": 40}}},
        variables=["text"],
    )


def test_admin_api_adds_versions_and_never_overwrites(storage_url: str) -> None:
    with serve(config(storage_url)) as served, admin(served) as client:
        first = create(client, name="summarise", template="v1 {{ text }}", description="first")
        assert (first["name"], first["version"], first["source"]) == ("summarise", 1, "api")
        assert first["variables"] == ["text"]
        assert first["messages"] == [{"role": "user", "content": "v1 {{ text }}"}]
        second = create(client, name="summarise", template="v2 {{ text }}")
        assert second["version"] == 2
        versions = client.get(f"{TEMPLATES}/summarise").json()
        assert [(v["version"], v["messages"][0]["content"]) for v in versions["data"]] == [
            (1, "v1 {{ text }}"),
            (2, "v2 {{ text }}"),
        ]
        one = client.get(f"{TEMPLATES}/summarise/versions/1").json()
        assert one["description"] == "first" and one["created_at"]
        listed = client.get(TEMPLATES).json()["data"]
        assert [(t["name"], t["version"], t["source"]) for t in listed] == [
            ("greet", 1, "config"),
            ("summarise", 2, "api"),
        ]


def test_admin_api_refusals_name_the_field(served: ServedGateway) -> None:
    with admin(served) as client:
        cases: list[tuple[dict[str, Any], int, str | None, str]] = [
            ({"name": "greet", "template": "x"}, 409, "name", "conflict"),
            ({"name": "t", "template": "x", "version": 3}, 400, "version", "invalid_request"),
            ({"name": "t", "template": "{{ oops"}, 400, "template", "invalid_request"),
            ({"name": "t", "template": "x", "colour": 1}, 400, "colour", "invalid_request"),
            ({"name": "bad name!", "template": "x"}, 400, "name", "invalid_request"),
            (
                {"name": "t", "template": "{{ a }}", "variables": []},
                400,
                "variables",
                "invalid_request",
            ),
            (
                {"name": "t", "template": "x", "schema": {"anyOf": []}},
                400,
                "schema.anyOf",
                "invalid_request",
            ),
            ({"name": "t", "template": "x" * 20_001}, 400, "template", "invalid_request"),
        ]
        for body, status, param, code in cases:
            response = client.post(TEMPLATES, json=body)
            assert response.status_code == status, (body, response.text)
            error = response.json()["error"]
            assert (error["param"], error["code"]) == (param, code), body
        assert client.get(f"{TEMPLATES}/nope").status_code == 404
        assert client.get(f"{TEMPLATES}/greet/versions/7").status_code == 404
        assert client.get(f"{TEMPLATES}/greet/versions/x").status_code == 400
    accounts = served.gateway.accounts
    assert accounts is not None
    _, key = served.call(accounts.create_key(KeySpec(tenant="acme")))
    tenant = httpx.get(f"{served.url}{TEMPLATES}", headers={"Authorization": f"Bearer {key}"})
    assert tenant.status_code == 403
    assert tenant.json()["error"]["code"] == "admin_required"


def test_without_storage_config_templates_are_listed_and_a_post_is_501() -> None:
    with serve(config(None)) as served, admin(served) as client:
        assert [t["name"] for t in client.get(TEMPLATES).json()["data"]] == ["greet"]
        refused = client.post(TEMPLATES, json={"name": "t", "template": "x"})
        assert refused.status_code == 501
        assert refused.json()["error"]["code"] == "not_configured"


def test_the_openai_sdk_names_a_template_and_a_version(served: ServedGateway) -> None:
    with admin(served) as client:
        summarise(client)
    sdk = served.client(MASTER)
    v1 = {"name": "summarise", "version": 1, "variables": {"text": "the text", "words": 5}}
    answer = sdk.chat.completions.create(
        model="smart", messages=[], extra_body={"switchyard": {"template": v1}}
    )
    assert answer.choices[0].message.content == "Summarise: the text"
    sent = fake_provider(served.gateway, "a").requests[-1]
    assert [(m.role, m.content) for m in sent.messages] == [
        ("system", "Answer in 5 words."),
        ("user", "Summarise: the text"),
    ]
    latest = {"name": "summarise", "variables": {"text": "abc"}}
    answer = sdk.chat.completions.create(
        model="smart",
        messages=[{"role": "user", "content": "and then?"}],
        extra_body={"switchyard": {"template": latest}},
    )
    assert answer.choices[0].message.content == "and then?"  # the caller's messages come last
    assert fake_provider(served.gateway, "a").requests[-1].messages[0].content == "TL;DR ABC"
    stream = sdk.chat.completions.create(
        model="smart",
        messages=[],
        stream=True,
        extra_body={"switchyard": {"template": {**latest, "variables": {"text": "streamed"}}}},
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == (
        "TL;DR STREAMED"
    )
    configured = sdk.chat.completions.create(
        model="smart",
        messages=[],
        extra_body={"switchyard": {"template": {"name": "greet", "variables": {"who": "Ada"}}}},
    )
    assert configured.choices[0].message.content == "Hello Ada!"


def test_refusals_are_the_sdks_typed_errors_naming_the_field(served: ServedGateway) -> None:
    with admin(served) as client:
        summarise(client)
        create(client, name="escape", template="{{ cycler.__init__.__globals__.os }}")
        create(client, name="mro", template="{{ ''.__class__.__mro__[1].__subclasses__() }}")
        create(client, name="huge", template="{{ text * 1000 }}")
    sdk = served.client(MASTER)

    def ask(template: Any, stream: bool = False) -> None:
        sdk.chat.completions.create(
            model="smart",
            messages=[],
            stream=stream,
            extra_body={"switchyard": {"template": template}},
        )

    bad: list[tuple[Any, type[openai.APIStatusError], str, str]] = [
        (
            {"name": "summarise", "version": 1, "variables": {"text": "t"}},
            openai.BadRequestError,
            "switchyard.template.variables.words",
            "invalid_request",
        ),
        (
            {"name": "summarise", "variables": {"text": "t", "mood": "x"}},
            openai.BadRequestError,
            "switchyard.template.variables.mood",
            "invalid_request",
        ),
        (
            {"name": "summarise", "variables": {"text": "x" * 41}},
            openai.BadRequestError,
            "switchyard.template.variables.text",
            "invalid_request",
        ),
        ({"name": "nope"}, openai.NotFoundError, "switchyard.template.name", "template_not_found"),
        (
            {"name": "summarise", "version": 9},
            openai.NotFoundError,
            "switchyard.template.version",
            "template_not_found",
        ),
        (
            {"name": "summarise", "version": 0},
            openai.BadRequestError,
            "switchyard.template.version",
            "invalid_request",
        ),
        (
            {"name": "summarise", "colour": 1},
            openai.BadRequestError,
            "switchyard.template.colour",
            "invalid_request",
        ),
        ({"name": "escape"}, openai.BadRequestError, "switchyard.template", "template_error"),
        ({"name": "mro"}, openai.BadRequestError, "switchyard.template", "template_error"),
        (
            {"name": "huge", "variables": {"text": "abc"}},
            openai.BadRequestError,
            "switchyard.template",
            "template_error",
        ),
    ]
    for template, error, param, code in bad:
        for stream in (False, True):
            with pytest.raises(error) as caught:
                ask(template, stream)
            body: Any = caught.value.body
            assert (body["param"], body["code"]) == (param, code), (template, stream)
    with pytest.raises(openai.BadRequestError) as caught:
        ask({"name": "escape"})
    assert "'escape'" in caught.value.message
    assert "__globals__" not in str(caught.value.body).replace("'__init__'", "")


def test_the_native_api_takes_template_and_variables(served: ServedGateway) -> None:
    with admin(served) as client:
        summarise(client)
        ok = client.post(
            "/api/v1/complete",
            json={"template": "summarise", "variables": {"text": "native"}},
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["text"] == "TL;DR NATIVE"
        pinned = client.post(
            "/api/v1/complete",
            json={
                "model": "smart",
                "template": {"name": "summarise", "version": 1},
                "variables": {"text": "x", "words": 2},
                "prompt": "last word",
            },
        )
        assert pinned.json()["text"] == "last word"
        sent = fake_provider(served.gateway, "a").requests[-1]
        assert [m.content for m in sent.messages] == [
            "Answer in 2 words.",
            "Summarise: x",
            "last word",
        ]
        streamed = client.post(
            "/api/v1/complete/stream",
            json={"template": {"name": "greet", "variables": {"who": "stream"}}},
        )
        assert streamed.status_code == 200
        assert "Hello" in streamed.text and "event: done" in streamed.text
        refusals: list[tuple[dict[str, Any], int, str, str]] = [
            ({"template": "summarise", "variables": {}}, 400, "variables.text", "INVALID_REQUEST"),
            ({"template": "nope"}, 404, "template.name", "INVALID_REQUEST"),
            ({"variables": {"a": 1}, "prompt": "x"}, 400, "variables", "INVALID_REQUEST"),
            (
                {"template": "greet", "variables": {"who": 1}, "messages": [], "prompt": "x"},
                400,
                "messages",
                "INVALID_REQUEST",
            ),
        ]
        for body, status, param, kind in refusals:
            response = client.post("/api/v1/complete", json=body)
            assert response.status_code == status, (body, response.text)
            error = response.json()["error"]
            assert error["type"] == kind
            assert error["param"].startswith(param), (body, error)


def test_the_anthropic_sdk_names_a_template_in_the_switchyard_field(served: ServedGateway) -> None:
    sdk = anthropic.Anthropic(base_url=served.url, api_key=MASTER, max_retries=0)
    message = sdk.messages.create(
        model="smart",
        max_tokens=50,
        messages=[],
        extra_body={"switchyard": {"template": {"name": "greet", "variables": {"who": "Claude"}}}},
    )
    assert message.content[0].type == "text" and message.content[0].text == "Hello Claude!"
    sent = fake_provider(served.gateway, "a").requests[-1]
    assert sent.format_fields is None or "switchyard" not in sent.format_fields.fields
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.messages.create(
            model="smart",
            max_tokens=50,
            messages=[],
            extra_body={"switchyard": {"template": {"name": "greet"}}},
        )
    assert "'who'" in caught.value.message
    greet = {"switchyard": {"template": {"name": "greet", "variables": {"who": "x " * 200}}}}
    counted = sdk.messages.count_tokens(model="smart", messages=[], extra_body=greet)
    plain = sdk.messages.count_tokens(model="smart", messages=[{"role": "user", "content": "x"}])
    assert counted.input_tokens > plain.input_tokens + 100  # the rendered prompt is counted
    with pytest.raises(anthropic.NotFoundError):
        sdk.messages.create(
            model="smart",
            max_tokens=50,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"switchyard": {"template": {"name": "nope"}}},
        )


def test_token_limits_count_the_rendered_prompt(sqlite_url: str) -> None:
    settings = config(sqlite_url, limits={"global": {"tpm": 200}})
    settings["templates"] = [
        *settings["templates"],
        {"name": "long", "template": "{{ text * 50 }}"},
    ]
    with serve(settings) as served:
        sdk = served.client(MASTER)
        short = {"name": "long", "variables": {"text": "a"}}
        sdk.chat.completions.create(
            model="smart",
            messages=[],
            max_tokens=10,
            extra_body={"switchyard": {"template": short}},
        )
        long = {"name": "long", "variables": {"text": "many words here "}}  # 800 characters
        with pytest.raises(openai.RateLimitError):
            sdk.chat.completions.create(
                model="smart",
                messages=[],
                max_tokens=10,
                extra_body={"switchyard": {"template": long}},
            )


def test_the_cache_keys_the_rendered_messages_not_the_template_name(sqlite_url: str) -> None:
    with serve(config(sqlite_url, cache={"backend": "memory"})) as served:
        sdk = served.client(MASTER)

        def ask(who: str, stream: bool = False) -> tuple[str, str]:
            body = {"switchyard": {"template": {"name": "greet", "variables": {"who": who}}}}
            if stream:
                raw = sdk.chat.completions.with_raw_response.create(
                    model="smart", messages=[], stream=True, extra_body=body
                )
                text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
                return text, raw.headers.get("x-switchyard-cache", "")
            raw = sdk.chat.completions.with_raw_response.create(
                model="smart", messages=[], extra_body=body
            )
            return raw.parse().choices[0].message.content or "", raw.headers["x-switchyard-cache"]

        assert ask("Ada") == ("Hello Ada!", "miss")
        assert ask("Bob") == ("Hello Bob!", "miss")
        assert ask("Ada") == ("Hello Ada!", "hit")
        assert ask("Cy", stream=True)[0] == "Hello Cy!"
        assert ask("Bob", stream=True)[0] == "Hello Bob!"


GRAPHQL_COMPLETE = """
mutation Complete($input: CompletionInput!) { complete(input: $input) { text done } }"""


def test_the_graphql_mutation_takes_a_template(served: ServedGateway) -> None:
    with admin(served) as client:

        def complete(template: dict[str, Any]) -> dict[str, Any]:
            variables = {"input": {"model": "smart", "template": template}}
            reply = client.post(
                "/graphql", json={"query": GRAPHQL_COMPLETE, "variables": variables}
            )
            assert reply.status_code == 200, reply.text
            body: dict[str, Any] = reply.json()
            return body

        done = complete({"name": "greet", "variables": {"who": "GraphQL"}})
        assert done["data"]["complete"] == {"text": "Hello GraphQL!", "done": True}
        [error] = complete({"name": "greet", "variables": {"whom": "x"}})["errors"]
        assert error["extensions"]["status"] == 400
        assert error["extensions"]["param"] == "input.template.variables.whom"
        [error] = complete({"name": "greet", "version": 4, "variables": {"who": "x"}})["errors"]
        assert error["extensions"]["code"] == "template_not_found"
        assert error["extensions"]["param"] == "input.template.version"


def test_the_native_websocket_takes_a_template(served: ServedGateway) -> None:
    url = served.url.replace("http://", "ws://") + "/api/v1/complete/ws"
    with connect(url, additional_headers=ADMIN, open_timeout=5) as ws:

        def ask(request: dict[str, Any]) -> list[dict[str, Any]]:
            ws.send(orjson.dumps(request).decode())
            messages = [orjson.loads(ws.recv(timeout=10))]
            while messages[-1]["type"] == "chunk":
                messages.append(orjson.loads(ws.recv(timeout=10)))
            return messages

        *chunks, done = ask({"template": "greet", "variables": {"who": "socket"}})
        assert "".join(m["text"] for m in chunks) == "Hello socket!"
        assert done["type"] == "done"
        [error] = ask({"template": "greet", "variables": {}})
        assert error["type"] == "error"
        assert error["error"]["param"] == "variables.who"
