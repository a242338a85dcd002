"""Each door reads a template reference into the canonical request's ``template`` (pure
translation; the Gateway renders it): where it found it, for an error's ``param``, and
``messages`` optional beside it."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.doors.anthropic.request import request_from_anthropic
from switchyard.doors.native.complete import parse_request, to_chat_request
from switchyard.errors import InvalidRequest
from switchyard.formats.openai_chat_request import request_from_openai

REF = {"name": "summarise", "version": 2, "variables": {"text": "t"}}


def test_openai_body_switchyard_template_without_messages() -> None:
    for body in (
        {"model": "m", "messages": [], "switchyard": {"template": REF}},
        {"model": "m", "switchyard": {"template": REF, "tags": ["a"]}},
    ):
        chat = request_from_openai(body)
        assert chat.messages == []
        assert chat.template is not None
        assert (chat.template.name, chat.template.version) == ("summarise", 2)
        assert chat.template.variables == {"text": "t"}
        assert chat.template.param == "switchyard.template"
        assert chat.template.variables_param == "switchyard.template.variables"
    with pytest.raises(InvalidRequest) as caught:
        request_from_openai({"model": "m", "messages": []})
    assert caught.value.param == "messages"


@pytest.mark.parametrize(
    ("template", "param"),
    [
        ("summarise", "switchyard.template"),
        ({"version": 1}, "switchyard.template.name"),
        ({"name": ""}, "switchyard.template.name"),
        ({"name": "x" * 129}, "switchyard.template.name"),
        ({"name": "t", "version": "2"}, "switchyard.template.version"),
        ({"name": "t", "version": True}, "switchyard.template.version"),
        ({"name": "t", "variables": []}, "switchyard.template.variables"),
        (
            {"name": "t", "variables": {f"v{i}": i for i in range(65)}},
            "switchyard.template.variables",
        ),
        ({"name": "t", "vars": {}}, "switchyard.template.vars"),
    ],
)
def test_openai_body_bad_template_names_its_path(template: Any, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_from_openai({"model": "m", "messages": [], "switchyard": {"template": template}})
    assert caught.value.param == param


def test_anthropic_body_switchyard_field_is_the_gateways_never_the_upstreams() -> None:
    chat = request_from_anthropic(
        {"model": "m", "max_tokens": 5, "messages": [], "switchyard": {"template": REF}, "top_k": 3}
    )
    assert chat.template is not None and chat.template.param == "switchyard.template"
    assert chat.messages == []
    assert chat.format_fields is not None and chat.format_fields.fields == {"top_k": 3}
    for controls, param in (
        ({"cache": {}}, "switchyard"),
        ({"template": {}}, "switchyard.template.name"),
    ):
        with pytest.raises(InvalidRequest) as caught:
            request_from_anthropic(
                {"model": "m", "max_tokens": 5, "messages": [], "switchyard": controls}
            )
        assert caught.value.param == param
    with pytest.raises(InvalidRequest):
        request_from_anthropic({"model": "m", "max_tokens": 5, "messages": []})


@pytest.mark.parametrize(
    ("body", "name", "version", "variables", "where"),
    [
        ({"template": "t", "variables": {"a": 1}}, "t", None, {"a": 1}, "variables"),
        ({"template": {"name": "t", "version": 3}}, "t", 3, {}, "variables"),
        (
            {"template": {"name": "t", "variables": {"a": 1}}, "prompt": "p"},
            "t",
            None,
            {"a": 1},
            "template.variables",
        ),
    ],
)
def test_native_body_template_and_variables(
    body: dict[str, Any], name: str, version: int | None, variables: dict[str, Any], where: str
) -> None:
    chat = to_chat_request(parse_request(body), "m", stream=False)
    assert chat.template is not None
    assert (chat.template.name, chat.template.version) == (name, version)
    assert chat.template.variables == variables
    assert chat.template.variables_param == where
    assert [m.content for m in chat.messages] == (["p"] if "prompt" in body else [])


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"variables": {"a": 1}, "prompt": "x"}, "variables"),
        ({"template": {"name": "t", "variables": {}}, "variables": {}}, "variables"),
        ({"template": {"name": "t", "version": 0}}, "template.version"),
        ({}, None),
    ],
)
def test_native_body_refusals(body: dict[str, Any], param: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_request(body)
    assert caught.value.param == param
