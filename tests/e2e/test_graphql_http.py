"""The GraphQL door over HTTP against the served gateway: queries, the ``complete`` mutation
(the same record and upstream request as the OpenAI door's), authentication, errors in
``extensions`` with the taxonomy's code, GraphiQL for a browser."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchyard.doors.graphql.documents import MAX_ALIASES
from tests.e2e.graphql_served import (
    AUTH,
    REPLY,
    Records,
    essentials,
    make_key,
    post,
    served_gateway,
)
from tests.e2e.served import ServedGateway
from tests.fakes.gateway import fake_provider

COMPLETE = """
mutation Complete($input: CompletionInput!) {
  complete(input: $input) {
    id text model provider finishReason done latencyMs cache
    usage { inputTokens outputTokens totalTokens cachedInputTokens reasoningTokens }
    cost { input output total }
  }
}"""


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[ServedGateway, Records]]:
    with served_gateway(sqlite_url) as pair:
        yield pair


def only_error(reply: httpx.Response) -> dict[str, Any]:
    body = reply.json()
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values()), body
    [error] = body["errors"]
    assert "Traceback" not in reply.text
    return error  # type: ignore[no-any-return]


def test_models_health_and_providers_for_the_master_key(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, _ = served
    reply = post(
        gateway,
        """{ models { id ownedBy alias deployments known contextWindow maxOutputTokens
                      prices { input output } capabilities { streaming tools } }
             health { status dependencies { name status } providers { name status } }
             providers { name type status deployments { key model status breaker { state } } } }""",
    )
    assert reply.status_code == 200 and reply.headers["x-request-id"]
    data = reply.json()["data"]
    models = {m["id"]: m for m in data["models"]}
    assert list(models) == ["smart", "fast", "a/gpt-4.1-mini", "a/f"]
    smart = models["smart"]
    assert smart["alias"] and smart["deployments"] == ["a/gpt-4.1-mini"] and smart["known"]
    assert smart["contextWindow"] > 100_000 and smart["prices"] == {"input": 1.0, "output": 2.0}
    assert smart["capabilities"]["streaming"] is True
    assert models["a/f"]["known"] is False and models["a/f"]["prices"] is None
    assert data["health"]["status"] == "ok"
    assert {d["name"] for d in data["health"]["dependencies"]} == {"database"}
    assert [p["name"] for p in data["health"]["providers"]] == ["a"]
    [provider] = data["providers"]
    assert (provider["name"], provider["type"]) == ("a", "fake")
    assert [d["key"] for d in provider["deployments"]] == ["a/gpt-4.1-mini", "a/f"]
    assert provider["deployments"][0]["breaker"]["state"] == "closed"


def test_a_virtual_key_sees_its_grant_and_may_not_list_providers(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, _ = served
    _, secret = make_key(gateway, tenant="globex")
    key = {"x-api-key": secret}
    reply = post(gateway, "{ models { id } }", headers=key)
    assert [m["id"] for m in reply.json()["data"]["models"]] == ["smart"]
    error = only_error(post(gateway, "{ providers { name } }", headers=key))
    assert error["extensions"] == {
        "code": "admin_required",
        "type": "permission_error",
        "status": 403,
    }
    assert error["path"] == ["providers"]


def test_the_mutation_makes_the_same_record_and_upstream_request_as_the_openai_door(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, records = served
    key_id, secret = make_key(gateway, user="ada")
    upstream = fake_provider(gateway.gateway, "a")
    variables = {
        "input": {
            "model": "smart",
            "system": "be brief",
            "prompt": "count",
            "maxTokens": 16,
            "temperature": 0.5,
            "metadata": {"team": "blue"},
        }
    }
    reply = post(gateway, COMPLETE, variables, headers={"Authorization": f"Bearer {secret}"})
    assert reply.status_code == 200, reply.text
    answer = reply.json()["data"]["complete"]
    assert (answer["text"], answer["model"], answer["provider"]) == (REPLY, "gpt-4.1-mini", "a")
    assert answer["finishReason"] == "stop" and answer["done"] is True
    usage = answer["usage"]
    assert usage["outputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    expected_cost = (usage["inputTokens"] * 1 + usage["outputTokens"] * 2) / 1e6
    assert answer["cost"]["total"] == pytest.approx(expected_cost)
    graphql_request = upstream.requests[-1]

    openai = gateway.client(secret).chat.completions.create(
        model="smart",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "count"}],
        max_tokens=16,
        temperature=0.5,
        metadata={"team": "blue"},
    )
    assert openai.choices[0].message.content == answer["text"]
    assert upstream.requests[-1] == graphql_request

    first, second = records.wait(2)
    assert essentials(first) == essentials(second)
    assert (first.kind, first.status, first.principal.key_id) == ("chat", "success", key_id)
    assert first.request_id == reply.headers["x-request-id"]


def test_the_model_defaults_to_the_tenants_default_else_the_first_alias(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, records = served
    _, acme = make_key(gateway, tenant="acme")  # default_model: fast
    _, globex = make_key(gateway, tenant="globex")  # none: its first alias, smart
    prompt = {"input": {"prompt": "hi"}}
    for secret, served_model in ((acme, "f"), (globex, "gpt-4.1-mini"), (None, "gpt-4.1-mini")):
        headers = AUTH if secret is None else {"x-api-key": secret}
        reply = post(gateway, COMPLETE, prompt, headers=headers)
        assert reply.json()["data"]["complete"]["model"] == served_model
    assert [r.alias for r in records.wait(3)] == ["fast", "smart", "smart"]


@pytest.mark.parametrize(
    ("given", "param"),
    [
        ({"model": "smart"}, "messages"),
        (
            {"model": "smart", "prompt": "a", "messages": [{"role": "user", "content": "b"}]},
            "prompt",
        ),
        ({"model": "smart", "messages": [{"role": "robot", "content": "b"}]}, "messages.0.role"),
        ({"model": "smart", "prompt": "a", "metadata": {"n": 1}}, "metadata.n"),
        ({"model": "", "prompt": "a"}, "model"),
    ],
)
def test_bad_input_is_a_graphql_error_naming_the_field_and_one_refused_record(
    served: tuple[ServedGateway, Records], given: dict[str, Any], param: str
) -> None:
    gateway, records = served
    error = only_error(post(gateway, COMPLETE, {"input": given}))
    assert error["extensions"]["code"] == "invalid_request"
    assert error["extensions"]["status"] == 400 and error["extensions"]["param"] == param
    [record] = records.wait(1)
    assert (record.kind, record.status, record.error_type) == ("chat", "error", "invalid_request")


def test_an_upstream_failure_keeps_its_taxonomy_code(sqlite_url: str) -> None:
    failure = {"mode": "status", "status": 429, "retry_after": 3}
    with served_gateway(sqlite_url, failure=failure) as (gateway, records):
        error = only_error(post(gateway, COMPLETE, {"input": {"model": "smart", "prompt": "a"}}))
    assert error["extensions"]["status"] == 429 and error["extensions"]["retryAfter"] == 3
    assert error["extensions"]["code"] == "rate_limit_exceeded"
    assert records.records[-1].status == "error"


def test_an_unknown_model_is_404_model_not_found(served: tuple[ServedGateway, Records]) -> None:
    gateway, _ = served
    error = only_error(post(gateway, COMPLETE, {"input": {"model": "nope", "prompt": "a"}}))
    assert error["extensions"]["code"] == "model_not_found" and error["extensions"]["status"] == 404


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer sk-sy-nonsense"}, {"x-api-key": "wrong"}]
)
def test_without_a_valid_key_http_gets_a_graphql_shaped_401(
    served: tuple[ServedGateway, Records], headers: dict[str, str]
) -> None:
    gateway, records = served
    reply = post(gateway, "{ models { id } }", headers=headers)
    assert reply.status_code == 401
    assert reply.json()["errors"][0]["extensions"] == {
        "code": "invalid_api_key",
        "type": "authentication_error",
        "status": 401,
    }
    query_by_get = httpx.get(
        f"{gateway.url}/graphql", params={"query": "{ models { id } }"}, headers=headers
    )
    assert query_by_get.status_code == 401
    assert records.records == []


def test_graphiql_is_served_to_a_browser_without_a_key(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, _ = served
    page = httpx.get(f"{gateway.url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    by_get = httpx.get(
        f"{gateway.url}/graphql", params={"query": "{ models { id } }"}, headers=AUTH
    )
    assert by_get.json()["data"]["models"][0]["id"] == "smart"


def test_an_oversized_body_is_413_in_graphql_shape(sqlite_url: str) -> None:
    with served_gateway(sqlite_url) as (gateway, _):
        limit = gateway.gateway.config.server.max_body_bytes
        reply = post(gateway, COMPLETE, {"input": {"model": "smart", "prompt": "x" * limit}})
    assert reply.status_code == 413
    assert reply.json()["errors"][0]["extensions"]["code"] == "payload_too_large"


def test_a_document_with_too_many_aliases_is_refused_before_anything_runs(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, records = served

    def completions(count: int) -> str:
        fields = " ".join(
            f'c{i}: complete(input: {{prompt: "a"}}) {{ text }}' for i in range(count)
        )
        return f"mutation {{ {fields} }}"

    body = post(gateway, completions(MAX_ALIASES)).json()
    assert [body["data"][f"c{i}"]["text"] for i in range(MAX_ALIASES)] == [REPLY] * MAX_ALIASES
    assert len({r.request_id for r in records.wait(MAX_ALIASES)}) == MAX_ALIASES  # one each
    error = only_error(post(gateway, completions(MAX_ALIASES + 1)))
    assert error["extensions"]["code"] == "invalid_request"
    assert len(records.records) == MAX_ALIASES


def test_a_bug_is_internal_error_logged_with_its_request_id_never_shown(
    served: tuple[ServedGateway, Records],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gateway, _ = served

    async def broken() -> None:
        raise RuntimeError("the secret is hunter2")

    monkeypatch.setattr(gateway.gateway, "provider_status", broken)
    with caplog.at_level(logging.ERROR, logger="switchyard.server"):
        reply = post(gateway, "{ providers { name } }")
    error = only_error(reply)
    rid = reply.headers["x-request-id"]
    assert error["extensions"]["code"] == "internal_error" and rid in error["message"]
    assert "hunter2" not in reply.text
    [logged] = [r for r in caplog.records if r.name == "switchyard.server"]
    assert rid in logged.getMessage() and logged.exc_info is not None


def test_usage_is_the_callers_tenant_only_unless_master_key(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, records = served
    _, acme = make_key(gateway, tenant="acme")
    _, globex = make_key(gateway, tenant="globex")
    for secret in (acme, globex, globex):
        post(gateway, COMPLETE, {"input": {"prompt": "hi"}}, headers={"x-api-key": secret})
    records.wait(3)
    query = """query U($groupBy: [String!], $tenant: String) {
      usage(groupBy: $groupBy, tenant: $tenant, since: "2020-01-01") {
        groupBy since tenant truncated groups { keys stats { requests costUsd } }
        totals { requests inputTokens outputTokens errors } } }"""

    def usage(headers: dict[str, str], rows: int = 1, **variables: Any) -> dict[str, Any]:
        for _ in range(100):  # the ledger writes within flush_seconds, maybe in two batches
            body = post(gateway, query, variables, headers=headers).json()
            if body.get("data") is None or body["data"]["usage"]["totals"]["requests"] >= rows:
                return body  # type: ignore[no-any-return]
            time.sleep(0.05)
        raise AssertionError(body)

    mine = usage({"x-api-key": globex}, 2, groupBy=["tenant", "alias"])["data"]["usage"]
    assert mine["tenant"] == "globex" and mine["since"] == "2020-01-01T00:00:00Z"
    assert [g["keys"] for g in mine["groups"]] == [{"tenant": "globex", "alias": "smart"}]
    assert mine["totals"]["requests"] == 2 and mine["groups"][0]["stats"]["costUsd"] is not None
    refused = usage({"x-api-key": globex}, tenant="acme")
    assert refused["errors"][0]["extensions"]["code"] == "not_found"
    everyone = usage(AUTH, 3, groupBy=["tenant"])["data"]["usage"]
    assert [g["keys"]["tenant"] for g in everyone["groups"]] == ["acme", "globex"]
    bad = post(gateway, '{ usage(groupBy: ["planet"]) { truncated } }').json()
    assert bad["errors"][0]["extensions"]["param"] == "group_by"


def test_a_client_that_leaves_cancels_the_mutations_upstream_call(sqlite_url: str) -> None:
    with served_gateway(sqlite_url, latency=5) as (gateway, records):
        upstream = fake_provider(gateway.gateway, "a")
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{gateway.url}/graphql",
                json={"query": COMPLETE, "variables": {"input": {"prompt": "a"}}},
                headers=AUTH,
                timeout=httpx.Timeout(5, read=0.5),
            )
        [record] = records.wait(1, timeout=3)
    assert record.status == "cancelled" and upstream.cancelled == 1
