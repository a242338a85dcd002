"""Request tags (``{"switchyard": {"tags": [...]}}``, or ``tags=`` in the library): free labels
kept on the request's usage row beside its caller's; bounded, and a bad one is a 400 naming it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import openai
import pytest
from tests.databases import read_usage
from tests.e2e.served import serve

from switchyard import Gateway, InvalidRequest
from switchyard.types import Principal

HELLO: Any = [{"role": "user", "content": "hello"}]


def config(url: str) -> dict[str, Any]:
    return {
        "providers": {"f": {"type": "fake", "reply": "hi"}},
        "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
        "storage": {"url": url, "flush_seconds": 0.05},
    }


def test_tags_sent_through_the_sdk_land_on_the_usage_row(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}"
    with serve(config(url)) as served:
        client = served.client()
        tagged = {"switchyard": {"tags": ["team-a", "batch:42", "team-a"]}}
        client.chat.completions.create(model="smart", messages=HELLO, extra_body=tagged)
        stream = client.chat.completions.create(
            model="smart", messages=HELLO, stream=True, extra_body={"switchyard": {"tags": ["s"]}}
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "hi"
        client.chat.completions.create(model="smart", messages=HELLO)
    rows, _ = asyncio.run(read_usage(url))
    assert sorted(tuple(r["tags"]) for r in rows) == [(), ("s",), ("team-a", "batch:42")]


@pytest.mark.parametrize(
    ("tags", "param"),
    [
        (["has space"], "switchyard.tags[0]"),
        (["ok", ""], "switchyard.tags[1]"),
        (["x" * 65], "switchyard.tags[0]"),
        ([f"t{i}" for i in range(17)], "switchyard.tags"),
        ("not-a-list", "switchyard.tags"),
    ],
)
def test_a_bad_tag_is_a_400_naming_it(tmp_path: Path, tags: Any, param: str) -> None:
    with serve(config(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")) as served:
        with pytest.raises(openai.BadRequestError) as caught:
            served.client().chat.completions.create(
                model="smart", messages=HELLO, extra_body={"switchyard": {"tags": tags}}
            )
    assert caught.value.param == param  # type: ignore[attr-defined]


async def test_the_library_joins_request_tags_to_the_callers(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}"
    async with Gateway.from_config(config(url)) as gateway:
        caller = Principal("r1", tenant=None, tags=("cli",))
        await gateway.chat(model="smart", messages=HELLO, tags=["nightly", "cli"], principal=caller)
        with pytest.raises(InvalidRequest) as caught:
            await gateway.chat(model="smart", messages=HELLO, tags=["a b"])
        assert caught.value.param == "tags.0"
    rows, _ = await read_usage(url)  # the refused request is a row too, without its tags
    assert sorted(tuple(r["tags"]) for r in rows) == [(), ("cli", "nightly")]
