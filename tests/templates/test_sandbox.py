"""The Jinja2 sandbox prompt templates render in: Python internals out of reach, variables
never run as template code, and what a template can make of its variables bounded before it
is allocated."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import UndefinedError

from switchyard.templates.sandbox import BoundedSandbox, OutputTooLarge, SecurityError, render

LIMIT = 1000


def rendered(source: str, **variables: Any) -> str:
    return render(BoundedSandbox(LIMIT).from_string(source), variables, LIMIT)


def test_variables_loops_filters_and_conditions_render() -> None:
    source = (
        "Summarise for {{ reader.name }}:\n"
        "{% for point in points %}- {{ point|trim|capitalize }}\n{% endfor %}"
        "{% if words %}In {{ words }} words.{% endif %}"
    )
    out = rendered(source, reader={"name": "Ada"}, points=[" one", "two "], words=50)
    assert out == "Summarise for Ada:\n- One\n- Two\nIn 50 words."


def test_nothing_is_html_escaped_and_trailing_newlines_are_kept() -> None:
    assert rendered("{{ code }}\n", code="<b>a & b</b>") == "<b>a & b</b>\n"


def test_a_variable_holding_template_syntax_is_text_not_code() -> None:
    attack = "{{ ''.__class__.__mro__ }}{% for x in range(10) %}x{% endfor %}"
    assert rendered("{{ text }}", text=attack) == attack


def test_an_undefined_name_fails_instead_of_rendering_empty() -> None:
    with pytest.raises(UndefinedError):
        rendered("Hello {{ nobody }}")
    with pytest.raises(UndefinedError):
        rendered("{{ user.missing }}", user={"name": "x"})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ (1).__class__.__base__.__subclasses__() }}",
        "{{ text.__class__ }}",
        "{{ items.__class__.__mro__ }}",
        "{{ request|attr('__class__') }}",
        "{{ ''['__class__'] }}",
        "{{ items.pop() }}",
        "{{ items.append(1) }}",
        "{{ mapping.update({'a': 1}) }}",
        "{{ mapping.clear() }}",
    ],
)
def test_escape_attempts_are_refused_by_the_sandbox(source: str) -> None:
    with pytest.raises(SecurityError):
        rendered(source, text="t", items=[1, 2], mapping={"k": "v"}, request={})


def test_lipsum_is_not_offered() -> None:
    with pytest.raises(UndefinedError):
        rendered("{{ lipsum(100000) }}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ text * 1000 }}",
        "{{ 1000 * text }}",
        "{{ items * 1000 }}",
        "{{ text|center(5000) }}",
        "{{ text.ljust(5000) }}",
        "{{ text.rjust(5000) }}",
        "{{ text.zfill(5000) }}",
        "{{ text|indent(5000) }}",
        "{{ '%5000d'|format(1) }}",
        "{{ '%5000d' % 1 }}",
        "{{ '%*d' % (5000, 1) }}",
        "{{ '{:>5000}'.format(1) }}",
        "{{ text|replace('', text * 20) }}",
        "{{ text.replace('', text * 20) }}",
        "{{ 2 ** 100000 }}",
        "{% for i in range(100) %}{{ text }}{% endfor %}",
        "{{ range(1000)|join(text) }}",
        "{{ range(1000)|join(d=text) }}",
        "{{ text.join(range(1000)) }}",
        "{{ text|wordwrap(1, true, text) }}",
        "{{ text|wordwrap(1, wrapstring=text) }}",
        "{{ items|tojson(indent=9) }}",
    ],
)
def test_growth_past_the_output_bound_is_refused(source: str) -> None:
    with pytest.raises(OutputTooLarge):
        rendered(source, text="0123456789abcdefghijklmnopqrstuvwxyz", items=[1, 2, 3])


def test_output_just_within_the_bound_renders() -> None:
    assert len(rendered("{{ text * 100 }}", text="0123456789")) == LIMIT
    assert rendered("{{ 2 ** 10 }}{{ '%5d' % 3 }}{{ 'a'|center(9) }}") == "1024    3    a    "
    assert rendered("{{ items|join(', ') }} {{ '-'.join(items) }}", items=["a", "b"]) == "a, b a-b"
    assert rendered("{{ items|tojson(indent=2) }}", items=[1]) == "[\n  1\n]"
    assert rendered("{{ 'a b c'|wordwrap(1, wrapstring='|') }}") == "a|b|c"
    with pytest.raises(OutputTooLarge):
        rendered("{{ text * 100 }}!", text="0123456789")
