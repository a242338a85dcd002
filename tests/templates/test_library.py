"""Template definitions (checked once, when read), config templates and their versions, and
rendering for a request through the library: variables checked and named, the template's
messages before the caller's, the output bound over all the messages."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from switchyard import Gateway
from switchyard.config.load import load_config
from switchyard.errors import (
    ConfigError,
    Conflict,
    InvalidRequest,
    NotConfigured,
    TemplateNotFound,
    TemplateRefused,
)
from switchyard.events.envelope import ended_data
from switchyard.records.record import RequestRecord
from switchyard.templates.library import TemplateLibrary
from switchyard.templates.settings import TemplateLimits, TemplateSettings, TemplateSpec
from switchyard.types import ChatRequest, Principal, TemplateRef
from switchyard.usage.report import summary_json
from tests.databases import read_usage
from tests.fakes.gateway import fake_provider

SUMMARISE: list[dict[str, Any]] = [
    {
        "name": "summarise",
        "description": "a summary",
        "system": "You summarise in {{ words }} words.",
        "template": "Summarise:\n{{ text }}",
    },
    {
        "name": "summarise",
        "version": 2,
        "messages": [
            {"role": "system", "content": "Be {{ tone | default('plain') }}."},
            {"role": "user", "content": "{{ text }}"},
            {"role": "assistant", "content": "Understood."},
        ],
        "variables": ["text", "tone"],
        "schema": {
            "type": "object",
            "properties": {"text": {"type": "string"}, "tone": {"enum": ["dry", "warm"]}},
            "required": ["text"],
        },
    },
]


def library(templates: list[dict[str, Any]] = SUMMARISE, **limits: Any) -> TemplateLibrary:
    return TemplateLibrary(
        [TemplateSettings.model_validate(t) for t in templates], TemplateLimits(**limits)
    )


def request(ref: dict[str, Any], messages: list[dict[str, Any]] | None = None) -> ChatRequest:
    return ChatRequest(model="m", messages=messages or [], template=TemplateRef(**ref))


async def test_the_template_messages_come_first_then_the_callers() -> None:
    asked = request(
        {"name": "summarise", "version": 1, "variables": {"words": 20, "text": "a long text"}},
        [{"role": "user", "content": "Also: be brief."}],
    )
    rendered = await library().apply(asked)
    assert rendered.template is None
    assert [(m.role, m.content) for m in rendered.messages] == [
        ("system", "You summarise in 20 words."),
        ("user", "Summarise:\na long text"),
        ("user", "Also: be brief."),
    ]


async def test_no_version_means_the_latest_and_a_schema_makes_variables_optional() -> None:
    rendered = await library().apply(request({"name": "summarise", "variables": {"text": "t"}}))
    assert [m.content for m in rendered.messages] == ["Be plain.", "t", "Understood."]
    assert [m.role for m in rendered.messages] == ["system", "user", "assistant"]


@pytest.mark.parametrize(
    ("ref", "param", "message"),
    [
        (
            {"name": "summarise", "version": 1, "variables": {"text": "t"}},
            "x.variables.words",
            "needs the variable 'words'",
        ),
        (
            {"name": "summarise", "variables": {"text": "t", "words": 3}},
            "x.variables.words",
            "has no variable 'words'",
        ),
        (
            {"name": "summarise", "variables": {"tone": "dry"}},
            "x.variables.text",
            "needs the variable 'text'",
        ),
        (
            {"name": "summarise", "variables": {"text": 3}},
            "x.variables.text",
            "must be of type string",
        ),
        (
            {"name": "summarise", "variables": {"text": "t", "tone": "angry"}},
            "x.variables.tone",
            "must be one of",
        ),
    ],
)
async def test_a_missing_unknown_or_invalid_variable_is_a_400_naming_it(
    ref: dict[str, Any], param: str, message: str
) -> None:
    asked = request({**ref, "param": "x", "variables_param": "x.variables"})
    with pytest.raises(InvalidRequest) as caught:
        await library().apply(asked)
    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_request"
    assert caught.value.param == param
    assert message in caught.value.message


async def test_an_unknown_template_or_version_is_a_404_naming_the_field() -> None:
    with pytest.raises(TemplateNotFound) as caught:
        await library().apply(request({"name": "nope", "param": "switchyard.template"}))
    assert (caught.value.status_code, caught.value.code) == (404, "template_not_found")
    assert caught.value.param == "switchyard.template.name"
    with pytest.raises(TemplateNotFound) as caught:
        await library().apply(request({"name": "summarise", "version": 3}))
    assert caught.value.param == "template.version"
    assert "has no version 3" in caught.value.message


async def test_the_output_bound_covers_all_the_messages_together() -> None:
    templates = [
        {
            "name": "two",
            "messages": [
                {"role": "system", "content": "{{ a }}"},
                {"role": "user", "content": "{{ b }}"},
            ],
        }
    ]
    small = library(templates, max_output_chars=10)
    ok = await small.apply(request({"name": "two", "variables": {"a": "12345", "b": "12345"}}))
    assert [m.content for m in ok.messages] == ["12345", "12345"]
    with pytest.raises(TemplateRefused) as caught:
        await small.apply(request({"name": "two", "variables": {"a": "12345", "b": "123456"}}))
    assert (caught.value.status_code, caught.value.code) == (400, "template_error")
    assert caught.value.param == "template"
    assert "'two'" in caught.value.message and "10 characters" in caught.value.message


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ ''.__class__.__mro__ }}", "refused by the sandbox"),
        ("{{ cycler.__init__.__globals__ }}", "refused by the sandbox"),
        ("{{ text * 1000000 }}", "output bound"),
        ("{{ 1 / n }}", "ZeroDivisionError"),
        ("{{ text.missing }}", "UndefinedError"),
        ("{{ text|int + 'a' }}", "TypeError"),
        ("{{ {}[text * 500] }}", "UndefinedError"),
    ],
)
async def test_a_template_failing_on_its_values_is_a_400_naming_it(
    source: str, problem: str
) -> None:
    broken = library([{"name": "broken", "template": source, "variables": ["text", "n"]}])
    ref = {"name": "broken", "variables": {"text": "t", "n": 0}, "param": "switchyard.template"}
    with pytest.raises(TemplateRefused) as caught:
        await broken.apply(request(ref))
    assert caught.value.param == "switchyard.template"
    assert "template 'broken' version 1" in caught.value.message
    assert problem in caught.value.message
    assert len(caught.value.message) < 400  # bounded, whatever the failure quotes


@pytest.mark.parametrize(
    ("definition", "problem"),
    [
        ({"template": "{{ text "}, "template: line 1"),
        ({"messages": [{"role": "user", "content": "{% for %}"}]}, "messages[0].content: line 1"),
        ({"system": "{{ a", "template": "b"}, "system: line 1"),
        (
            {"template": "{{ text }} {{ other }}", "variables": ["text"]},
            "variables: the template reads 'other'",
        ),
        ({"template": "x", "variables": ["not-a-name"]}, "variables[0]"),
        ({"template": "x", "messages": [{"role": "user", "content": "y"}]}, "exactly one"),
        ({}, "exactly one"),
        ({"messages": [{"role": "system", "content": "x"}], "system": "y"}, "system: goes with"),
        ({"template": "{{ a }}", "schema": {"properties": {"b": {}}}}, "schema: names 'b'"),
        ({"template": "{{ a }}", "schema": {"oneOf": []}}, "schema.oneOf"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
    ],
)
def test_a_definition_is_checked_when_read(definition: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TemplateSpec.model_validate({"name": "t", **definition})
    assert problem in str(caught.value)


def test_declared_variables_are_inferred_from_the_template_when_left_out() -> None:
    spec = TemplateSpec.model_validate(
        {
            "name": "t",
            "system": "{{ b }}",
            "template": "{% set c = 1 %}{{ a }}{{ c }}{{ range(2)|list }}",
        }
    )
    assert spec.declared() == ["a", "b"]


def test_config_templates_are_validated_with_the_config() -> None:
    base: dict[str, Any] = {"providers": {}, "models": []}
    with pytest.raises(ConfigError, match="'summarise' version 1 twice"):
        load_config({**base, "templates": [SUMMARISE[0], SUMMARISE[0]]})
    with pytest.raises(ConfigError, match="max_source_chars"):
        load_config({**base, "templates": SUMMARISE, "template_limits": {"max_source_chars": 10}})
    with pytest.raises(ConfigError, match="templates"):
        load_config({**base, "templates": [{"name": "t", "template": "{{ oops"}]})


async def test_config_templates_list_by_latest_and_versions_but_are_read_only() -> None:
    lib = library()
    assert [(t.name, t.version, t.source) for t in await lib.latest()] == [
        ("summarise", 2, "config")
    ]
    assert [t.version for t in await lib.versions("summarise")] == [1, 2]
    first = (await lib.version("summarise", 1)).public()
    assert first["variables"] == ["text", "words"]
    assert first["messages"][0] == {
        "role": "system",
        "content": "You summarise in {{ words }} words.",
    }
    with pytest.raises(Conflict):
        await lib.create(TemplateSpec(name="summarise", template="x"))
    with pytest.raises(NotConfigured):  # no storage: nowhere to keep a new one
        await lib.create(TemplateSpec(name="other", template="x"))
    with pytest.raises(TemplateNotFound):
        await lib.versions("other")


async def test_the_gateway_renders_before_the_provider_sees_the_request_plain_and_streamed() -> (
    None
):
    config = {
        "providers": {"a": {"type": "fake"}},  # echoes the last user message
        "models": [{"name": "m", "deployments": [{"provider": "a", "model": "x"}]}],
        "templates": SUMMARISE,
    }
    ref = {"name": "summarise", "version": 1, "variables": {"words": 3, "text": "abc"}}
    async with Gateway.from_config(config) as gateway:
        answer = await gateway.chat(model="m", template=ref)  # messages may be left out
        assert answer.text == "Summarise:\nabc"
        sent = fake_provider(gateway, "a").requests[-1]
        assert sent.template is None
        assert sent.messages[0].content == "You summarise in 3 words."
        chunks = [c.text or "" async for c in gateway.stream(model="m", messages=[], template=ref)]
        assert "".join(chunks) == "Summarise:\nabc"
        with pytest.raises(InvalidRequest):
            async for _ in gateway.stream(model="m", messages=[], template={"name": "summarise"}):
                pass


def test_a_gateway_without_templates_never_imports_jinja2() -> None:
    """No template named, no cost: not even the import (a subprocess, for a clean sys.modules)."""
    script = (
        "import sys, asyncio\n"
        "from switchyard import Gateway\n"
        "config = {'providers': {'a': {'type': 'fake'}},\n"
        "          'models': [{'name': 'm', 'deployments': [{'provider': 'a', 'model': 'x'}]}]}\n"
        "async def main():\n"
        "    async with Gateway.from_config(config) as gateway:\n"
        "        await gateway.chat(model='m', messages=[{'role': 'user', 'content': 'hi'}])\n"
        "asyncio.run(main())\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr


async def test_the_usage_record_row_and_summary_name_the_template_used(storage_url: str) -> None:
    config = {
        "providers": {"a": {"type": "fake"}},
        "models": [{"name": "m", "deployments": [{"provider": "a", "model": "x"}]}],
        "templates": SUMMARISE,
        "storage": {"url": storage_url, "flush_seconds": 0.05},
    }
    records: list[RequestRecord] = []
    latest = {"name": "summarise", "variables": {"text": "abc"}}  # version 2, the latest
    async with Gateway.from_config(config) as gateway:
        gateway.sinks.append(Collect(records))
        first = {"name": "summarise", "version": 1, "variables": {"words": 3, "text": "abc"}}
        await gateway.chat(model="m", template=first)
        async for _ in gateway.stream(model="m", messages=[], template=latest):
            pass
        await gateway.chat(model="m", messages=[{"role": "user", "content": "no template"}])
        assert [r.template for r in records] == ["summarise@1", "summarise@2", None]
        assert ended_data(records[0])["template"] == "summarise@1"  # the events' data
        for _ in range(100):  # written every flush_seconds
            rows, _ = await read_usage(storage_url)
            if len(rows) == 3:
                break
            await asyncio.sleep(0.05)
        assert sorted(str(r["template"]) for r in rows) == ["None", "summarise@1", "summarise@2"]
        summary = await gateway.usage_summary(Principal.anonymous_admin(), group_by="template")
        counts = {g["template"]: g["requests"] for g in summary_json(summary)["groups"]}
        assert counts == {"summarise@1": 1, "summarise@2": 1, None: 1}


class Collect:
    def __init__(self, records: list[RequestRecord]) -> None:
        self.records = records

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)
