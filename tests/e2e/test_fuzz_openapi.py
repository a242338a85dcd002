"""Fuzzing the served gateway's OpenAI door with requests generated from OpenAI's OpenAPI document
(``tests/conformance/openai-openapi.yaml``: ``CreateChatCompletionRequest``,
``CreateEmbeddingRequest``): valid bodies, bodies with one value of another type, bodies that
break the schema, and streams.

Whatever arrives, the gateway answers without a 500, every error is OpenAI's error JSON, every
success (and every stream chunk) is valid against OpenAI's response schemas, a stream ends with
``data: [DONE]`` or an error event, and no exchange takes longer than ``EXCHANGE_SECONDS``.

Most cases name one of the configured routes instead of the generated ``model`` (a random name
routes nowhere: a 404 and nothing more), so the router, failover, the fake providers and the
rendering of replies and streams are exercised too. The runs are derandomized (the same cases
every time, no example database) and bounded to a few hundred cases.
"""

from __future__ import annotations

import base64
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.e2e.served import serve
from tests.fakes.openapi_requests import (
    bodies,
    encode,
    replace_one,
    request_spec,
    with_one_value_replaced,
)
from tests.fakes.openapi_schema import assert_valid

EXCHANGE_SECONDS = 10.0
# Statuses the gateway documents for upstream failures; anything else from 500 up is a bug.
UPSTREAM_STATUSES = frozenset({502, 503, 504})
KEEP = "<the generated model>"
DIRECT = "a/<the generated model>"  # provider a, serving whatever model the case names
CHAT_MODELS = ("chat", "failover", "cut-stream", "a/m", DIRECT, KEEP)
EMBEDDING_MODELS = ("embed", "chat", "a/e", DIRECT, KEEP)

CONFIG: dict[str, Any] = {
    "providers": {
        "a": {"type": "fake"},  # echoes the last user message
        "b": {"type": "fake", "reply": "from b"},
        "down": {"type": "fake", "failure": {"mode": "status", "status": 503}},
        "cut": {"type": "fake", "reply": "one two three", "failure": {"mode": "cut_stream"}},
    },
    "models": [
        {
            "name": "chat",
            "deployments": [{"provider": "a", "model": "m"}, {"provider": "b", "model": "m"}],
        },
        {
            "name": "failover",
            "deployments": [{"provider": "down", "model": "m"}, {"provider": "b", "model": "m"}],
        },
        {"name": "cut-stream", "deployments": [{"provider": "cut", "model": "m"}]},
        {"name": "embed", "deployments": [{"provider": "a", "model": "e"}]},
    ],
    "router": {"retries": 0, "deadline_seconds": 5},
}

FUZZ = settings(
    database=None,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@dataclass(frozen=True)
class Exchange:
    status: int
    content_type: str
    body: bytes


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        serve(CONFIG) as served,
        httpx.Client(base_url=served.base_url, timeout=EXCHANGE_SECONDS) as http,
    ):
        yield http


def exchange(client: httpx.Client, path: str, body: Any, model: str, stream: bool) -> Exchange:
    """Send ``body`` naming ``model`` (see CHAT_MODELS), streamed when ``stream``; a body that
    is not an object is sent as it is."""
    if isinstance(body, dict):
        generated = body.get("model")
        body = dict(body)
        if model == DIRECT:
            body["model"] = f"a/{generated}" if isinstance(generated, str) else generated
        elif model != KEEP:
            body["model"] = model
        if stream:
            body["stream"] = True
    content = encode(body)
    note(f"POST /v1{path} {content!r}")
    deadline = time.monotonic() + EXCHANGE_SECONDS
    headers = {"content-type": "application/json"}
    with client.stream("POST", path, content=content, headers=headers) as response:
        parts: list[bytes] = []
        for part in response.iter_bytes():
            parts.append(part)
            assert time.monotonic() < deadline, f"still answering after {EXCHANGE_SECONDS} s"
    content_type = response.headers.get("content-type", "")
    return Exchange(response.status_code, content_type, b"".join(parts))


def check(exchange: Exchange, success_schema: str) -> None:
    """The answer is a valid success, a valid stream, or an OpenAI error that is not a 500."""
    if exchange.status == 200 and exchange.content_type.startswith("text/event-stream"):
        check_stream(exchange.body)
        return
    assert exchange.content_type.startswith("application/json"), exchange
    payload = orjson.loads(exchange.body)
    if exchange.status == 200:
        assert_valid(success_schema, _as_floats(payload))
        return
    assert exchange.status < 500 or exchange.status in UPSTREAM_STATUSES, exchange
    check_error(payload)


def check_error(payload: Any) -> None:
    assert_valid("ErrorResponse", payload)
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"message", "type", "param", "code"}


def check_stream(body: bytes) -> None:
    """Every event is a valid chunk except the last: ``[DONE]`` or an error."""
    events = [block.removeprefix(b"data: ") for block in body.split(b"\n\n") if block.strip()]
    assert events, "an empty stream"
    *chunks, last = events
    for chunk in chunks:
        assert_valid("CreateChatCompletionStreamResponse", orjson.loads(chunk))
    if last != b"[DONE]":
        check_error(orjson.loads(last))


def _as_floats(payload: Any) -> Any:
    """An embeddings reply with its base64 vectors decoded: OpenAI sends base64 when asked, but
    its schema describes float arrays only."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not any(isinstance(i.get("embedding"), str) for i in data):
        return payload
    decoded = []
    for item in data:
        floats = array("f", base64.b64decode(item["embedding"], validate=True))
        decoded.append({**item, "embedding": floats.tolist()})
    return {**payload, "data": decoded}


# -- chat completions ---------------------------------------------------------------------------

CHAT = "/chat/completions"
VALID_CHATS = bodies(CHAT, GenerationMode.POSITIVE)


@settings(FUZZ, max_examples=60)
@given(body=VALID_CHATS, model=st.sampled_from(CHAT_MODELS))
def test_chat_completions_from_the_schema(client: httpx.Client, body: Any, model: str) -> None:
    check(exchange(client, CHAT, body, model, False), "CreateChatCompletionResponse")


@settings(FUZZ, max_examples=60)
@given(body=VALID_CHATS, model=st.sampled_from(CHAT_MODELS))
def test_streamed_chat_completions_from_the_schema(
    client: httpx.Client, body: Any, model: str
) -> None:
    check(exchange(client, CHAT, body, model, True), "CreateChatCompletionResponse")


@settings(FUZZ, max_examples=40)
@given(
    body=with_one_value_replaced(VALID_CHATS),
    model=st.sampled_from(CHAT_MODELS),
    stream=st.booleans(),
)
def test_chat_completions_with_a_value_of_another_type(
    client: httpx.Client, body: Any, model: str, stream: bool
) -> None:
    check(exchange(client, CHAT, body, model, stream), "CreateChatCompletionResponse")


@settings(FUZZ, max_examples=20)
@given(body=bodies(CHAT, GenerationMode.NEGATIVE), model=st.sampled_from(CHAT_MODELS))
def test_chat_completions_that_break_the_schema(
    client: httpx.Client, body: Any, model: str
) -> None:
    check(exchange(client, CHAT, body, model, False), "CreateChatCompletionResponse")


# -- embeddings ---------------------------------------------------------------------------------

EMBEDDINGS = "/embeddings"
VALID_EMBEDDINGS = bodies(EMBEDDINGS, GenerationMode.POSITIVE)


@settings(FUZZ, max_examples=50)
@given(body=VALID_EMBEDDINGS, model=st.sampled_from(EMBEDDING_MODELS))
def test_embeddings_from_the_schema(client: httpx.Client, body: Any, model: str) -> None:
    check(exchange(client, EMBEDDINGS, body, model, False), "CreateEmbeddingResponse")


@settings(FUZZ, max_examples=40)
@given(body=with_one_value_replaced(VALID_EMBEDDINGS), model=st.sampled_from(EMBEDDING_MODELS))
def test_embeddings_with_a_value_of_another_type(
    client: httpx.Client, body: Any, model: str
) -> None:
    check(exchange(client, EMBEDDINGS, body, model, False), "CreateEmbeddingResponse")


@settings(FUZZ, max_examples=40)
@given(body=bodies(EMBEDDINGS, GenerationMode.NEGATIVE), model=st.sampled_from(EMBEDDING_MODELS))
def test_embeddings_that_break_the_schema(client: httpx.Client, body: Any, model: str) -> None:
    check(exchange(client, EMBEDDINGS, body, model, False), "CreateEmbeddingResponse")


# -- the fuzzer's own parts ---------------------------------------------------------------------


def test_a_plain_text_500_fails_the_check() -> None:
    with pytest.raises(AssertionError):
        check(Exchange(500, "text/plain", b"Internal Server Error"), "CreateEmbeddingResponse")
    with pytest.raises(AssertionError):
        body = (
            b'{"error": {"message": "boom", "type": "internal_error", "param": null, "code": null}}'
        )
        check(Exchange(500, "application/json", body), "CreateEmbeddingResponse")


def test_a_stream_must_end_with_done_or_an_error() -> None:
    chunk = orjson.dumps(
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []}
    )
    check_stream(b"data: " + chunk + b"\n\ndata: [DONE]\n\n")
    with pytest.raises(AssertionError):
        check_stream(b"data: " + chunk + b"\n\n")  # cut without an error event
    error = b'{"error": {"message": "cut", "type": "api_error", "param": null, "code": null}}'
    check_stream(b"data: " + chunk + b"\n\ndata: " + error + b"\n\n")


def test_the_generated_schema_closes_nested_objects_but_not_combined_ones() -> None:
    schemas = request_spec(("/embeddings", CHAT))["components"]["schemas"]
    assert schemas["ChatCompletionRequestUserMessage"]["additionalProperties"] is False
    assert schemas["CreateEmbeddingRequest"]["additionalProperties"] is False  # said so itself
    assert "additionalProperties" not in schemas["ModelResponseProperties"]  # an allOf member
    request = schemas["CreateChatCompletionRequest"]
    assert all("additionalProperties" not in member for member in request["allOf"])
    assert "Metadata" in schemas and "CreateImageRequest" not in schemas  # reached ones only


def test_one_value_is_replaced_at_any_depth() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    replaced = {orjson.dumps(replace_one(body, which, ["x"])).decode() for which in range(5)}
    assert replaced == {
        '{"model":["x"],"messages":[{"role":"user","content":"hi"}]}',
        '{"model":"m","messages":["x"]}',
        '{"model":"m","messages":[["x"]]}',
        '{"model":"m","messages":[{"role":["x"],"content":"hi"}]}',
        '{"model":"m","messages":[{"role":"user","content":["x"]}]}',
    }
    assert body["messages"][0]["role"] == "user"  # the generated body itself is left as it was
