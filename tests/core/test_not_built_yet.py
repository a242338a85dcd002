"""What DESIGN.md describes but is not built yet is refused by name, never silently ignored: the
``tags`` request control with a 400."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from tests.e2e.served import ServedGateway, serve

from switchyard import Gateway, InvalidRequest
from switchyard.config.load import load_config

CONFIG: dict[str, Any] = {
    "providers": {"f": {"type": "fake", "reply": "hi"}},
    "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
}
HELLO: Any = [{"role": "user", "content": "hello"}]


def test_without_those_sections_the_config_loads() -> None:
    config = load_config(CONFIG, env={})
    assert config.cache is None and config.storage is None


@pytest.fixture(scope="module")
def served() -> Iterator[ServedGateway]:
    with serve(CONFIG) as s:
        yield s


@pytest.mark.parametrize(
    ("control", "value", "problem"),
    [
        ("tags", ["team-a"], "request tags are not recorded yet"),
    ],
)
def test_a_request_control_not_built_yet_is_a_400_naming_it(
    served: ServedGateway, control: str, value: Any, problem: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        served.client().chat.completions.create(
            model="smart", messages=HELLO, extra_body={"switchyard": {control: value}}
        )
    assert caught.value.status_code == 400
    assert caught.value.param == f"switchyard.{control}"  # type: ignore[attr-defined]
    assert problem in caught.value.message


def test_the_controls_that_exist_still_work(served: ServedGateway) -> None:
    reply = served.client().chat.completions.create(
        model="smart", messages=HELLO, extra_body={"switchyard": {"timeout": 5, "cache": None}}
    )
    assert reply.choices[0].message.content == "hi"


async def test_the_library_refuses_them_too() -> None:
    async with Gateway.from_config(CONFIG) as gateway:
        with pytest.raises(InvalidRequest) as caught:
            await gateway.chat(model="smart", messages=HELLO, tags=["team-a"])
    assert caught.value.param == "tags"
    assert "request tags are not recorded yet" in caught.value.message
