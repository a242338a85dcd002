"""The OpenAI embeddings codec over recorded OpenAI traffic."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest

from switchyard.errors import InvalidRequest, UpstreamProtocolError
from switchyard.formats.openai_embeddings import (
    embedding_request_from_openai,
    embedding_request_to_openai,
    embedding_response_from_openai,
    embedding_response_to_openai,
)
from switchyard.types import EmbeddingRequest, EmbeddingResponse, Usage
from tests.fakes.cassettes import cassette_names, load_cassette
from tests.fakes.openapi_schema import assert_valid

TOKEN_INPUTS = {"embeddings-tokens", "embeddings-bad-request"}
TEXT_CASSETTES = [name for name in cassette_names("embeddings-") if name not in TOKEN_INPUTS]
REPLIES = [name for name in cassette_names("embeddings-") if load_cassette(name).status == 200]


@pytest.mark.parametrize("name", TEXT_CASSETTES)
def test_request_round_trips(name: str) -> None:
    body = load_cassette(name).request_json
    request = embedding_request_from_openai(body)
    expected = dict(body)
    if isinstance(expected["input"], str):
        expected["input"] = [expected["input"]]
    if expected.get("encoding_format") == "float":
        del expected["encoding_format"]  # the default is not sent
    assert embedding_request_to_openai(request) == expected
    assert_valid("CreateEmbeddingRequest", embedding_request_to_openai(request))


@pytest.mark.parametrize("name", sorted(TOKEN_INPUTS))
def test_token_inputs_are_refused_naming_input(name: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        embedding_request_from_openai(load_cassette(name).request_json)
    assert caught.value.param == "input"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": [[1, 2], [3]]}, "input"),
        ({"model": "m", "input": ["a", 1]}, "input"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": "8"}, "dimensions"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "m", "input": "x", "user": 5}, "user"),
        ({"model": "m", "input": "x", "truncate": True}, "truncate"),
    ],
)
def test_invalid_requests_name_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        embedding_request_from_openai(body)
    assert caught.value.param == param
    assert f"'{param}'" in caught.value.message


def test_request_fields() -> None:
    request = embedding_request_from_openai(
        {
            "model": "m",
            "input": ["a", "b"],
            "dimensions": 3,
            "encoding_format": "base64",
            "user": "u",
        }
    )
    assert request == EmbeddingRequest(
        model="m", input=["a", "b"], dimensions=3, encoding_format="base64", user="u"
    )
    assert embedding_request_to_openai(request) == {
        "model": "m",
        "input": ["a", "b"],
        "dimensions": 3,
        "encoding_format": "base64",
        "user": "u",
    }


@pytest.mark.parametrize("name", REPLIES)
def test_replies_parse_and_render_valid_json(name: str) -> None:
    original = load_cassette(name).response_json
    response = embedding_response_from_openai(original, "openai")
    assert response.provider == "openai"
    assert response.model == original["model"]
    assert len(response.data) == len(original["data"])
    assert response.usage == Usage(input_tokens=original["usage"]["prompt_tokens"])
    rendered = embedding_response_to_openai(response)
    assert_valid("CreateEmbeddingResponse", rendered)
    assert rendered["usage"] == {
        "prompt_tokens": original["usage"]["prompt_tokens"],
        "total_tokens": original["usage"]["total_tokens"],
    }


def test_base64_and_float_replies_agree() -> None:
    # The same input and model, recorded once as floats and once as base64.
    floats = embedding_response_from_openai(load_cassette("embeddings-basic").response_json, "p")
    packed = embedding_response_from_openai(load_cassette("embeddings-base64").response_json, "p")
    assert len(floats.data[0]) == len(packed.data[0]) == 1536
    assert packed.data[0] == pytest.approx(floats.data[0], abs=1e-6)


def test_base64_output_is_byte_identical_to_openais() -> None:
    original = load_cassette("embeddings-base64").response_json
    response = embedding_response_from_openai(original, "p")
    rendered = embedding_response_to_openai(response, "base64")
    assert rendered["data"][0]["embedding"] == original["data"][0]["embedding"]


def test_base64_is_little_endian_float32() -> None:
    response = EmbeddingResponse(model="m", data=[[1.0, -0.5]])
    encoded = embedding_response_to_openai(response, "base64")["data"][0]["embedding"]
    assert base64.b64decode(encoded) == struct.pack("<2f", 1.0, -0.5)


def test_vectors_come_back_in_index_order() -> None:
    body = {
        "model": "m",
        "data": [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}],
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    assert embedding_response_from_openai(body, "p").data == [[1.0], [2.0]]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": []},
        {"data": [{"index": 0}]},
        {"data": [{"index": 0, "embedding": "not base64!"}]},
        {"data": [{"index": 0, "embedding": base64.b64encode(b"abc").decode()}]},
        {"data": [{"index": 0, "embedding": ["x"]}]},
    ],
)
def test_malformed_replies_are_protocol_errors(body: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError) as caught:
        embedding_response_from_openai(body, "p")
    assert caught.value.provider == "p"


def test_input_type_is_the_requests_task() -> None:
    body = {"model": "e", "input": "where is it?", "input_type": "search_query"}
    assert embedding_request_from_openai(body).task == "query"
    assert embedding_request_from_openai({"model": "e", "input": "x"}).task is None
    with pytest.raises(InvalidRequest) as caught:
        embedding_request_from_openai({**body, "input_type": "query"})
    assert caught.value.param == "input_type"
