"""The ``openai`` SDK's ``responses`` over a Gemini upstream (its fake on 127.0.0.1) and the
scripted ``fake`` provider: the canonical path carries the Responses door to any provider;
``reasoning.effort`` reaches Gemini as its ``thinkingConfig``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.e2e.served import ServedGateway, serve
from tests.fakes.gemini_upstream import GeminiUpstream


@pytest.fixture(scope="module")
def gemini() -> Iterator[GeminiUpstream]:
    with GeminiUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def served(gemini: GeminiUpstream) -> Iterator[ServedGateway]:
    config: dict[str, Any] = {
        "providers": {
            "gem": {"type": "gemini", "base_url": gemini.base_url, "api_key": "AIza-up"},
            "scripted": {"type": "fake", "reply": "scripted answer"},
        },
        "models": [
            {"name": "gem", "deployments": [{"provider": "gem", "model": "gemini-2.5-flash"}]},
            {"name": "scripted", "deployments": [{"provider": "scripted", "model": "m"}]},
        ],
        "router": {"retries": 0},
    }
    with serve(config) as s:
        yield s


def test_gemini_plain_and_streamed(served: ServedGateway, gemini: GeminiUpstream) -> None:
    gemini.reset()
    client = served.client()
    got = client.responses.create(
        model="gem", input="hello gemini world", reasoning={"effort": "low"}
    )
    assert got.output_text == "hello gemini world"
    assert got.usage is not None and got.usage.input_tokens > 0
    sent = gemini.requests[-1].json
    assert sent["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "low"}
    with client.responses.stream(model="gem", input="streamed words here") as stream:
        final = stream.get_final_response()
    assert final.output_text == "streamed words here" and final.status == "completed"


def test_the_fake_provider(served: ServedGateway) -> None:
    client: openai.OpenAI = served.client()
    assert client.responses.create(model="scripted", input="hi").output_text == "scripted answer"
    events = list(client.responses.create(model="scripted", input="hi", stream=True))
    assert events[-1].type == "response.completed"
