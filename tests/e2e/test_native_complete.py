"""The native REST API through plain HTTP: /api/v1/complete, its SSE stream, /api/v1/models,
the native error JSON, and the same usage record as the OpenAI door for the same request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from switchyard import Gateway
from switchyard.doors.native.complete import (
    ChunkEvent,
    CompleteResponse,
    DoneEvent,
    ErrorBody,
    ModelList,
)
from switchyard.providers.fake import FakeFailure
from switchyard.records.record import RequestRecord
from switchyard.tenancy.settings import KeySpec
from tests.e2e.record_essentials import essentials
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply

KEY = "sk-native-master"
AUTH = {"Authorization": f"Bearer {KEY}"}


class Collect:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


def config(upstream_url: str, **server: Any) -> dict[str, Any]:
    return {
        "server": {"master_key": KEY, **server},
        "providers": {
            "a": {"type": "fake", "reply": "hello from the fake"},
            "broken": {"type": "fake", "reply": "one two three four five"},
            # 40 words at 20 a second: time to leave midway
            "slow": {
                "type": "fake",
                "reply": " ".join(f"w{i}" for i in range(40)),
                "tokens_per_second": 20,
            },
            "mirror": {"type": "openai", "base_url": upstream_url, "api_key": "k"},
        },
        "models": [
            {"name": "smart", "deployments": [{"provider": "a", "model": "gpt-4.1"}]},
            {"name": "breaks", "deployments": [{"provider": "broken", "model": "b-model"}]},
            {"name": "slow", "deployments": [{"provider": "slow", "model": "s-model"}]},
            {"name": "mirrored", "deployments": [{"provider": "mirror", "model": "gpt-4o-mini"}]},
            {
                "name": "local-ish",
                "deployments": [
                    {
                        "provider": "a",
                        "model": "house-model",
                        "prices": {"input": 1.0, "output": 2.0},
                    }
                ],
            },
        ],
        "router": {"retries": 0},
    }


@pytest.fixture(scope="module")
def upstream() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def sink() -> Collect:
    return Collect()


@pytest.fixture(scope="module")
def served(upstream: OpenAIUpstream, sink: Collect) -> Iterator[ServedGateway]:
    with serve(Gateway.from_config(config(upstream.base_url), sinks=[sink])) as s:
        yield s


@pytest.fixture()
def http(served: ServedGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client:
        yield client


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event, data)`` pairs of an SSE body, checking its framing on the way."""
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        name_line, data_line = block.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: ")
        events.append((name_line[7:], orjson.loads(data_line[6:])))
    return events


def test_a_completion_answers_text_usage_cost_and_the_served_models_facts(
    http: httpx.Client,
) -> None:
    reply = http.post("/api/v1/complete", json={"model": "smart", "prompt": "hi"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    CompleteResponse.model_validate(body)
    assert body["text"] == "hello from the fake"
    assert (body["model"], body["provider"], body["finish_reason"]) == ("gpt-4.1", "a", "stop")
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    # gpt-4.1 from the catalog: $2 in, $8 out per million tokens
    expected = (usage["input_tokens"] * 2.0 + usage["output_tokens"] * 8.0) / 1e6
    assert body["cost"]["total"] == pytest.approx(expected)
    assert reply.headers["x-switchyard-cost-usd"] == format(body["cost"]["total"], "f").rstrip("0")
    assert body["latency_ms"] > 0
    facts = body["capabilities"]
    assert facts["context_window"] == 1047576 and facts["capabilities"]["tools"] is True
    assert facts["prices"]["input"] == 2.0 and facts["strengths"] and facts["quality"] > 0
    assert reply.headers["x-switchyard-provider"] == "a"


def test_a_deployments_own_prices_are_its_facts_and_its_cost(http: httpx.Client) -> None:
    body = http.post("/api/v1/complete", json={"model": "local-ish", "prompt": "hi"}).json()
    assert body["capabilities"]["prices"]["input"] == 1.0  # config's, not a catalog's
    assert body["capabilities"]["context_window"] is None  # the catalog does not know it
    usage = body["usage"]
    expected = (usage["input_tokens"] * 1.0 + usage["output_tokens"] * 2.0) / 1e6
    assert body["cost"]["total"] == pytest.approx(expected)


def test_the_model_defaults_to_the_first_alias_without_server_default_model(
    http: httpx.Client,
) -> None:
    body = http.post("/api/v1/complete", json={"messages": [{"role": "user", "content": "x"}]})
    assert body.json()["provider"] == "a" and body.json()["model"] == "gpt-4.1"


def test_server_default_model_names_the_model_of_a_request_without_one(
    upstream: OpenAIUpstream,
) -> None:
    with serve(config(upstream.base_url, default_model="mirrored")) as served:
        reply = httpx.post(
            f"{served.url}/api/v1/complete", json={"prompt": "echo me"}, headers=AUTH
        )
    assert reply.json()["provider"] == "mirror"
    assert reply.json()["text"] == "echo me"
    assert upstream.requests[-1].json["model"] == "gpt-4o-mini"


def test_a_default_model_that_is_not_configured_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"server\.default_model"):
        Gateway.from_config(
            {
                "server": {"default_model": "nowhere"},
                "providers": {"a": {"type": "fake"}},
                "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
            }
        )


def test_the_embedded_defaults_answer_with_the_local_model_alias() -> None:
    gateway = Gateway.from_config(None)
    assert gateway.config.server.default_model == "local"


def test_the_prefer_header_puts_a_provider_first_plain_and_streamed(
    upstream: OpenAIUpstream,
) -> None:
    cfg = config(upstream.base_url)
    deployments = [{"provider": "a", "model": "gpt-4.1"}, {"provider": "broken", "model": "b"}]
    cfg["models"].append({"name": "either", "deployments": deployments})
    body = {"model": "either", "prompt": "hi"}
    with serve(cfg) as served:
        for path in ("/api/v1/complete", "/api/v1/complete/stream"):
            plain = httpx.post(f"{served.url}{path}", json=body, headers=AUTH)
            preferred = httpx.post(
                f"{served.url}{path}", json=body, headers={**AUTH, "x-switchyard-prefer": "broken"}
            )
            assert plain.headers["x-switchyard-provider"] == "a"
            assert preferred.headers["x-switchyard-provider"] == "broken"


def test_a_stream_sends_chunk_events_then_done_with_usage_and_cost(http: httpx.Client) -> None:
    reply = http.post("/api/v1/complete/stream", json={"model": "smart", "prompt": "hi"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = sse_events(reply.text)
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"chunk"} and len(names) > 2
    for _, data in events[:-1]:
        ChunkEvent.model_validate(data)
    assert "".join(data["text"] for _, data in events[:-1]) == "hello from the fake"
    done = events[-1][1]
    DoneEvent.model_validate(done)
    assert (done["model"], done["provider"], done["finish_reason"]) == ("gpt-4.1", "a", "stop")
    assert done["usage"]["output_tokens"] > 0 and done["cost"]["total"] > 0


def test_a_stream_that_breaks_midway_ends_with_an_error_event(
    served: ServedGateway, http: httpx.Client
) -> None:
    fake_provider(served.gateway, "broken").script(FakeFailure(mode="cut_stream", after_chunks=2))
    reply = http.post("/api/v1/complete/stream", json={"model": "breaks", "prompt": "hi"})
    assert reply.status_code == 200
    events = sse_events(reply.text)
    assert [name for name, _ in events] == ["chunk", "chunk", "error"]
    error = events[-1][1]
    ErrorBody.model_validate(error)
    assert error["error"]["type"] == "PROVIDER_ERROR"


def test_a_client_that_leaves_a_stream_cancels_the_upstream_call(
    served: ServedGateway, sink: Collect
) -> None:
    slow = fake_provider(served.gateway, "slow")
    before = slow.cancelled
    sink.records.clear()
    with (
        httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client,
        client.stream(
            "POST", "/api/v1/complete/stream", json={"model": "slow", "prompt": "x"}
        ) as reply,
    ):
        first = next(reply.iter_lines())
        assert first == "event: chunk"
    deadline = time.monotonic() + 5
    while slow.cancelled == before or not sink.records:
        assert time.monotonic() < deadline, "the upstream stream was never closed"
        time.sleep(0.02)
    assert (sink.records[0].status, sink.records[0].provider) == ("cancelled", "slow")


def test_a_stream_that_fails_before_its_first_chunk_is_a_json_error(
    served: ServedGateway, http: httpx.Client
) -> None:
    fake_provider(served.gateway, "broken").script(FakeFailure(status=503))
    reply = http.post("/api/v1/complete/stream", json={"model": "breaks", "prompt": "hi"})
    assert reply.status_code == 503
    assert reply.json()["error"]["type"] == "PROVIDER_ERROR"


def test_streamed_tool_calls_arrive_as_pieces_that_reassemble_exactly(
    upstream: OpenAIUpstream, http: httpx.Client
) -> None:
    envelope = {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
    }
    arguments = '{"city": "Zürich", "units": "metric"}'

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    first = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": ""},
    }
    pieces = [arguments[:9], arguments[9:20], arguments[20:]]
    upstream.script(
        Reply.stream(
            [
                chunk({"role": "assistant", "content": None, "tool_calls": [first]}),
                *(
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
                    for p in pieces
                ),
                chunk({}, "tool_calls"),
                {
                    **envelope,
                    "choices": [],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29},
                },
            ]
        )
    )
    tools = [{"name": "weather", "parameters": {"type": "object", "properties": {}}}]
    reply = http.post(
        "/api/v1/complete/stream",
        json={"model": "mirrored", "prompt": "weather?", "tools": tools},
    )
    events = sse_events(reply.text)
    calls = [c for name, data in events if name == "chunk" for c in data["tool_calls"]]
    assert calls[0]["id"] == "call_1" and calls[0]["name"] == "weather"
    assert "".join(c.get("arguments", "") for c in calls) == arguments
    done = events[-1][1]
    assert done["finish_reason"] == "tool_calls" and done["usage"]["total_tokens"] == 29
    sent = upstream.requests[-1].json
    assert sent["tools"][0]["function"]["name"] == "weather"


@pytest.mark.parametrize(
    ("body", "status", "kind", "code", "param"),
    [
        ({"model": "smart"}, 400, "INVALID_REQUEST", "invalid_request", None),
        (
            {"prompt": "x", "max_tokens": -1},
            400,
            "INVALID_REQUEST",
            "invalid_request",
            "max_tokens",
        ),
        ({"prompt": "x", "model": "nope"}, 404, "MODEL_NOT_FOUND", "model_not_found", "model"),
        ({"prompt": "x", "model": "a\x00b"}, 400, "INVALID_REQUEST", "invalid_request", "model"),
    ],
)
def test_errors_are_native_json_with_the_right_status(
    http: httpx.Client,
    body: dict[str, Any],
    status: int,
    kind: str,
    code: str,
    param: str | None,
) -> None:
    for path in ("/api/v1/complete", "/api/v1/complete/stream"):
        reply = http.post(path, json=body)
        assert reply.status_code == status
        error = reply.json()
        ErrorBody.model_validate(error)
        assert (error["error"]["type"], error["error"]["code"]) == (kind, code)
        assert error["error"].get("param") == param
        assert reply.headers["x-request-id"]


def test_a_body_that_is_not_json_is_a_native_400(http: httpx.Client) -> None:
    reply = http.post("/api/v1/complete", content=b"{nope")
    assert reply.status_code == 400 and reply.json()["error"]["type"] == "INVALID_REQUEST"


def test_a_provider_error_and_a_timeout_map_to_their_types(
    upstream: OpenAIUpstream, http: httpx.Client
) -> None:
    upstream.script(Reply.error(500, "upstream broke", type="server_error"))
    reply = http.post("/api/v1/complete", json={"model": "mirrored", "prompt": "x"})
    assert reply.status_code == 503 and reply.json()["error"]["type"] == "PROVIDER_ERROR"
    upstream.script(
        Reply.error(
            400,
            "This model's maximum context length is 128000 tokens",
            code="context_length_exceeded",
        )
    )
    reply = http.post("/api/v1/complete", json={"model": "mirrored", "prompt": "x"})
    assert reply.status_code == 400 and reply.json()["error"]["type"] == "CONTEXT_LENGTH"
    upstream.script(Reply.error(429, "slow down", type="requests", headers={"retry-after": "7"}))
    reply = http.post("/api/v1/complete", json={"model": "mirrored", "prompt": "x"})
    assert reply.status_code == 429 and reply.json()["error"]["type"] == "RATE_LIMIT"


def test_a_missing_key_is_a_native_401_on_every_native_completion_route(
    served: ServedGateway,
) -> None:
    for method, path in [
        ("POST", "/api/v1/complete"),
        ("POST", "/api/v1/complete/stream"),
        ("GET", "/api/v1/models"),
    ]:
        reply = httpx.request(method, served.url + path, json={"prompt": "x"})
        assert reply.status_code == 401
        assert reply.json() == {
            "error": {
                "type": "INVALID_REQUEST",
                "code": "invalid_api_key",
                "message": reply.json()["error"]["message"],
            }
        }
    # the OpenAI door keeps OpenAI's shape
    reply = httpx.post(served.url + "/v1/chat/completions", json={})
    assert reply.json()["error"]["type"] == "authentication_error"


def test_models_lists_aliases_and_deployments_with_catalog_facts(http: httpx.Client) -> None:
    reply = http.get("/api/v1/models")
    assert reply.status_code == 200
    listing = reply.json()
    ModelList.model_validate(listing)
    entries = {entry["id"]: entry for entry in listing["data"]}
    assert {"smart", "breaks", "mirrored", "local-ish", "a/gpt-4.1"} <= set(entries)
    smart = entries["smart"]
    assert smart["type"] == "alias"
    [deployment] = smart["deployments"]
    assert deployment["provider"] == "a" and deployment["model"] == "gpt-4.1"
    assert deployment["context_window"] == 1047576
    assert deployment["max_output_tokens"] == 32768
    assert deployment["prices"] == {
        "input": 2.0,
        "output": 8.0,
        "cached_input": 0.5,
        "per_image": None,
    }
    assert deployment["capabilities"]["vision"] is True
    assert deployment["use_cases"] and deployment["strengths"]
    assert entries["a/gpt-4.1"]["type"] == "deployment"


def test_models_shows_a_virtual_key_only_what_it_may_use(sqlite_url: str) -> None:
    cfg = config("http://127.0.0.1:9/v1")
    cfg["storage"] = {"url": sqlite_url, "flush_seconds": 0.05}
    cfg["tenants"] = [{"name": "acme", "models": ["smart"]}]
    with serve(cfg) as served:
        accounts = served.gateway.accounts
        assert accounts is not None
        _, secret = served.call(accounts.create_key(KeySpec(tenant="acme")))
        headers = {"Authorization": f"Bearer {secret}"}
        listing = httpx.get(f"{served.url}/api/v1/models", headers=headers).json()
        refused = httpx.post(
            f"{served.url}/api/v1/complete",
            json={"model": "mirrored", "prompt": "x"},
            headers=headers,
        )
        default = httpx.post(f"{served.url}/api/v1/complete", json={"prompt": "x"}, headers=headers)
    assert [entry["id"] for entry in listing["data"]] == ["smart"]
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "type": "INVALID_REQUEST",
        "code": "model_not_allowed",
        "message": "this API key may not use the model 'mirrored'",
        "param": "model",
    }
    assert default.status_code == 200  # the first alias is smart, which the key may use


def test_a_rate_limit_is_a_native_429_with_retry_after(upstream: OpenAIUpstream) -> None:
    cfg = config(upstream.base_url)
    cfg["limits"] = {"global": {"rpm": 1}}
    with serve(cfg) as served:
        first = httpx.post(f"{served.url}/api/v1/complete", json={"prompt": "x"}, headers=AUTH)
        second = httpx.post(f"{served.url}/api/v1/complete", json={"prompt": "x"}, headers=AUTH)
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["error"]["type"] == "RATE_LIMIT"
    assert second.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(second.headers["retry-after"]) >= 1


# -- the same usage record as the OpenAI door ---------------------------------------------------


OPENAI_AND_NATIVE = [
    (  # a plain answer
        (
            "/v1/chat/completions",
            {"model": "smart", "messages": [{"role": "user", "content": "same words"}]},
        ),
        ("/api/v1/complete", {"model": "smart", "prompt": "same words"}),
    ),
    (  # a stream
        (
            "/v1/chat/completions",
            {
                "model": "mirrored",
                "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}],
            },
        ),
        ("/api/v1/complete/stream", {"model": "mirrored", "system": "s", "prompt": "hi"}),
    ),
    (  # an unknown model
        ("/v1/chat/completions", {"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
        ("/api/v1/complete", {"model": "nope", "prompt": "x"}),
    ),
    (  # a field that fails validation (refused by the door: still one record)
        (
            "/v1/chat/completions",
            {
                "model": "smart",
                "messages": [{"role": "user", "content": "x"}],
                "max_tokens": "many",
            },
        ),
        ("/api/v1/complete", {"model": "smart", "prompt": "x", "max_tokens": "many"}),
    ),
]


@pytest.mark.parametrize(("openai_call", "native_call"), OPENAI_AND_NATIVE)
def test_the_native_door_records_what_the_openai_door_records(
    http: httpx.Client,
    sink: Collect,
    openai_call: tuple[str, dict[str, Any]],
    native_call: tuple[str, dict[str, Any]],
) -> None:
    records = []
    for path, body in (openai_call, native_call):
        sink.records.clear()
        http.post(path, json=body)
        [record] = sink.records
        records.append(essentials(record))
    assert records[0] == records[1]
