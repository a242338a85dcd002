"""``POST /api/v1/comparison`` served over HTTP (uvicorn, httpx), judged by an OpenAI
deployment on the fake OpenAI server (its real wire format): structured output on the wire, a
broken answer asked again, the answer's shape, validation errors by field and the 502 after
the retries, all in the native error JSON."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from jsonschema import Draft202012Validator

from switchyard import Gateway
from switchyard.comparison.prompt import ANSWER_SCHEMA
from switchyard.doors.native.comparison import ComparisonResponse
from switchyard.doors.native.complete import ErrorBody
from tests.e2e.served import ServedGateway, serve
from tests.fakes.cassettes import load_cassette
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.sinks import Collect
from tests.fakes.upstream import Reply

KEY = "sk-comparison-master"
AUTH = {"Authorization": f"Bearer {KEY}"}
REQUEST = {
    "user_prompt": "Explain why the sky is blue, for a ten-year-old.",
    "essay_a": "Sunlight has every colour. Air scatters blue light the most, so blue comes "
    "at us from all over the sky.",
    "essay_b": "Because it reflects the sea.",
    "correlation_id": "batch-7/pair-3",
}


def completion(content: str, prompt_tokens: int, completion_tokens: int) -> Reply:
    """OpenAI's chat completion (the recorded payload) answering ``content``."""
    body = copy.deepcopy(load_cassette("chat-basic").response_json)
    body["choices"][0]["message"]["content"] = content
    body["usage"] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    return Reply.json(body)


VALID = orjson.dumps(
    {
        "justification": "Essay A explains scattering simply; Essay B is wrong.",
        "winner": "essay_a",
        "confidence": 93,
    }
).decode()


@pytest.fixture(scope="module")
def upstream() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def sink() -> Collect:
    return Collect()


@pytest.fixture(scope="module")
def served(upstream: OpenAIUpstream, sink: Collect) -> Iterator[ServedGateway]:
    config = {
        "server": {"master_key": KEY},
        "providers": {"openai": {"type": "openai", "base_url": upstream.base_url, "api_key": "k"}},
        "models": [{"name": "judge", "deployments": [{"provider": "openai", "model": "gpt-4.1"}]}],
        "router": {"retries": 0},
        "comparison": {
            "model": "judge",
            "temperature": 0,
            "max_retries": 1,
            "max_essay_chars": 500,
        },
    }
    with serve(Gateway.from_config(config, sinks=[sink])) as s:
        yield s


@pytest.fixture()
def http(served: ServedGateway, upstream: OpenAIUpstream, sink: Collect) -> Iterator[httpx.Client]:
    upstream.reset()
    sink.records.clear()
    with httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client:
        yield client
    assert upstream.pending == 0


def test_a_comparison_asks_again_after_broken_json_and_answers_the_sum(
    http: httpx.Client, upstream: OpenAIUpstream
) -> None:
    upstream.script(
        completion('{"justification": "Essay A explains', 120, 7), completion(VALID, 160, 25)
    )
    reply = http.post("/api/v1/comparison", json=REQUEST)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    ComparisonResponse.model_validate(body)
    assert body["winner"] == "essay_a" and body["confidence"] == 0.93
    assert body["justification"] == "Essay A explains scattering simply; Essay B is wrong."
    assert (body["provider"], body["model"]) == ("openai", "gpt-4.1")
    assert body["correlation_id"] == "batch-7/pair-3"
    assert "position_consistent" not in body  # one order only
    assert body["usage"]["input_tokens"] == 280 and body["usage"]["output_tokens"] == 32
    # gpt-4.1 is priced in the catalog: both calls' cost, in the body and the header
    assert body["cost"]["total"] > 0
    assert float(reply.headers["x-switchyard-cost-usd"]) == pytest.approx(body["cost"]["total"])
    assert body["latency_ms"] > 0
    # two requests upstream, each with the answer's JSON schema in OpenAI's wire format
    assert len(upstream.requests) == 2
    for sent in upstream.requests:
        fmt = sent.json["response_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["name"] == "essay_comparison"
        assert fmt["json_schema"]["schema"] == ANSWER_SCHEMA
        assert sent.json["temperature"] == 0 and sent.json["model"] == "gpt-4.1"
    # and the answer is what the OpenAPI document says
    document = http.get("/api/v1/openapi.json").json()
    schema = {"$ref": "#/components/schemas/ComparisonResponse", **document}
    Draft202012Validator(schema).validate(body)
    retried = upstream.requests[1].json["messages"]
    assert retried[2] == {"role": "assistant", "content": '{"justification": "Essay A explains'}
    assert "could not be used" in retried[3]["content"]


def test_the_essays_reach_the_model_inside_their_tags(
    http: httpx.Client, upstream: OpenAIUpstream, sink: Collect
) -> None:
    upstream.script(completion(VALID, 100, 20))
    reply = http.post("/api/v1/comparison", json={**REQUEST, "correlation_id": None})
    assert reply.status_code == 200, reply.text
    user = upstream.requests[0].json["messages"][1]["content"]
    assert f"<essay_a>\n{REQUEST['essay_a']}\n</essay_a>" in user
    assert f"<essay_b>\n{REQUEST['essay_b']}\n</essay_b>" in user
    # no correlation id sent: the request's own id, the one its usage row carries
    assert reply.json()["correlation_id"] == reply.headers["x-request-id"]
    assert [r.request_id for r in sink.records] == [reply.headers["x-request-id"]]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"essay_b": None}, "essay_b"),
        ({"essay_a": "x" * 501}, "essay_a"),  # comparison.max_essay_chars
        ({"user_prompt": 42}, "user_prompt"),
        ({"temperature_override": 3}, "temperature_override"),
        ({"model_override": ""}, "model_override"),
        ({"provider": "azure"}, "provider"),
        ({"callback_topic": "huleedu.results"}, "callback_topic"),
    ],
)
def test_invalid_fields_are_400s_naming_the_field(
    http: httpx.Client, upstream: OpenAIUpstream, sink: Collect, change: dict[str, Any], param: str
) -> None:
    body = {k: v for k, v in {**REQUEST, **change}.items() if v is not None}
    reply = http.post("/api/v1/comparison", json=body)
    assert reply.status_code == 400, reply.text
    error = ErrorBody.model_validate(reply.json()).error
    assert (error.type, error.param) == ("INVALID_REQUEST", param)
    assert param in error.message
    assert upstream.requests == []
    assert len(sink.records) == 1 and sink.records[0].http_status == 400  # still one row


def test_a_body_that_is_not_json_and_a_missing_key_answer_in_the_native_shape(
    http: httpx.Client, served: ServedGateway
) -> None:
    reply = http.post("/api/v1/comparison", content=b"{not json")
    assert reply.status_code == 400
    assert ErrorBody.model_validate(reply.json()).error.type == "INVALID_REQUEST"
    anonymous = httpx.post(f"{served.url}/api/v1/comparison", json=REQUEST, timeout=10)
    assert anonymous.status_code == 401
    assert ErrorBody.model_validate(anonymous.json()).error.code == "invalid_api_key"


def test_answers_that_stay_broken_are_a_502_after_the_retries(
    http: httpx.Client, upstream: OpenAIUpstream, sink: Collect
) -> None:
    upstream.script(completion("I think A.", 100, 4), completion("Still A.", 130, 3))
    reply = http.post("/api/v1/comparison", json=REQUEST)
    assert reply.status_code == 502
    error = ErrorBody.model_validate(reply.json()).error
    assert (error.type, error.code) == ("PROVIDER_ERROR", "invalid_model_answer")
    assert "2 attempt(s)" in error.message and "not a JSON object" in error.message
    assert len(upstream.requests) == 2  # 1 + comparison.max_retries
    # each call was an answered, accounted request
    assert [r.status for r in sink.records] == ["success", "success"]
