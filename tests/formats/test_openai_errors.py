"""OpenAI error JSON, both directions: status first, then the structured code and type."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from switchyard import errors
from switchyard.errors import (
    ContentFiltered,
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.formats.openai_errors import (
    error_to_openai,
    map_openai_error,
    map_openai_error_payload,
)
from tests.fakes.cassettes import cassette_names, load_cassette
from tests.fakes.openapi_schema import assert_valid


def body(
    message: str = "m", *, type: str = "invalid_request_error", code: Any = None, param: Any = None
) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type, "param": param, "code": code}})


ERROR_CASSETTES = [name for name in cassette_names() if load_cassette(name).status >= 400]


@pytest.mark.parametrize("name", ERROR_CASSETTES)
def test_recorded_openai_errors(name: str) -> None:
    cassette = load_cassette(name)
    error = map_openai_error(
        cassette.status, cassette.response_headers, cassette.response_body.encode(), "openai"
    )
    recorded = cassette.response_json["error"]
    assert error.message == recorded["message"]
    assert error.param == recorded["param"]
    assert error.provider == "openai" and error.upstream_status == cassette.status
    expected = ModelNotFound if cassette.status == 404 else InvalidRequest
    assert type(error) is expected


def test_the_recorded_unsupported_parameter_error_names_the_parameter() -> None:
    cassette = load_cassette("chat-bad-request")
    error = map_openai_error(400, {}, cassette.response_body.encode(), "openai")
    assert error.param == "max_tokens"
    assert not error.retryable


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequest),
        (401, UpstreamAuthenticationError),
        (403, UpstreamAuthenticationError),
        (404, ModelNotFound),
        (408, Timeout),
        (409, ProviderUnavailable),
        (413, PayloadTooLarge),
        (422, InvalidRequest),
        (429, RateLimited),
        (418, InvalidRequest),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (504, ProviderUnavailable),
        (529, ProviderUnavailable),
    ],
)
def test_status_decides_first(status: int, cls: type[SwitchyardError]) -> None:
    error = map_openai_error(status, {}, body("nope", type="whatever"), "p")
    assert type(error) is cls
    assert error.message == "nope"
    assert error.upstream_status == status
    assert error.retryable is cls.retryable


@pytest.mark.parametrize(
    ("status", "code", "type_", "cls"),
    [
        (400, "context_length_exceeded", "invalid_request_error", ContextLengthExceeded),
        (400, "content_filter", "invalid_request_error", ContentFiltered),
        (400, "content_policy_violation", "invalid_request_error", ContentFiltered),
        (400, None, "content_filter", ContentFiltered),
        (400, "model_not_found", "invalid_request_error", ModelNotFound),
        (404, "model_not_found", "invalid_request_error", ModelNotFound),
        (422, "context_length_exceeded", "invalid_request_error", ContextLengthExceeded),
        (401, "invalid_api_key", "invalid_request_error", UpstreamAuthenticationError),
        (429, "insufficient_quota", "insufficient_quota", RateLimited),
        (500, "content_filter", "server_error", ProviderUnavailable),
    ],
)
def test_code_and_type_refine_the_status(
    status: int, code: str | None, type_: str, cls: type[SwitchyardError]
) -> None:
    assert type(map_openai_error(status, {}, body(code=code, type=type_), "p")) is cls


def test_context_length_from_a_server_that_sends_no_code() -> None:
    vllm = orjson.dumps(
        {
            "object": "error",
            "message": "This model's maximum context length is 4096 tokens. "
            "However, you requested 5000 tokens.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }
    )
    assert type(map_openai_error(400, {}, vllm, "vllm")) is ContextLengthExceeded


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "<html><body>502 Bad Gateway</body></html>"),
        (b"", "upstream answered HTTP 502"),
        (b"[1, 2]", "upstream answered HTTP 502"),
        (b'{"error": "overloaded"}', "overloaded"),
        (b'{"detail": "Not here"}', "Not here"),
    ],
)
def test_bodies_that_are_not_openai_errors_still_map_by_status(raw: bytes, message: str) -> None:
    error = map_openai_error(502, {}, raw, "p")
    assert type(error) is ProviderUnavailable
    assert error.message == message


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"x-ratelimit-reset-requests": "1s"}, None),
    ],
)
def test_rate_limits_carry_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    error = map_openai_error(429, headers, body(type="requests", code="rate_limit_exceeded"), "p")
    assert isinstance(error, RateLimited)
    assert error.retry_after == seconds


@pytest.mark.parametrize(
    ("payload", "cls"),
    [
        ({"error": {"message": "boom", "type": "server_error"}}, ProviderUnavailable),
        (
            {"error": {"message": "slow", "type": "requests", "code": "rate_limit_exceeded"}},
            RateLimited,
        ),
        ({"error": {"message": "long", "code": "context_length_exceeded"}}, ContextLengthExceeded),
        ({"error": {"message": "bad", "type": "invalid_request_error"}}, InvalidRequest),
        ({"error": {"message": "?", "type": "mystery"}}, ProviderUnavailable),
        ({"error": {"message": "vllm", "type": "BadRequestError", "code": 400}}, InvalidRequest),
        ({"error": "plain text"}, ProviderUnavailable),
    ],
)
def test_error_payloads_without_a_status(
    payload: dict[str, Any], cls: type[SwitchyardError]
) -> None:
    error = map_openai_error_payload(payload, "p")
    assert type(error) is cls
    assert error.provider == "p"


ALL_ERRORS = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, SwitchyardError)
]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_every_taxonomy_error_renders_as_openai_error_json(cls: type[SwitchyardError]) -> None:
    rendered = error_to_openai(cls("went wrong", param="messages[0].content"))
    assert_valid("ErrorResponse", rendered)
    assert rendered == {
        "error": {
            "message": "went wrong",
            "type": cls.error_type,
            "param": "messages[0].content",
            "code": cls.code,
        }
    }


def test_rendered_errors_map_back_to_the_same_class() -> None:
    for cls in (InvalidRequest, ContextLengthExceeded, ContentFiltered, ModelNotFound, RateLimited):
        raw = orjson.dumps(error_to_openai(cls("x")))
        assert type(map_openai_error(cls.status_code, {}, raw, "p")) is cls
    raw = orjson.dumps(error_to_openai(UpstreamProtocolError("x")))
    assert type(map_openai_error(502, {}, raw, "p")) is ProviderUnavailable
