"""The README's "Prompt templates" example config is valid and renders as the README says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from switchyard.config.load import load_config
from switchyard.errors import InvalidRequest
from switchyard.templates.library import TemplateLibrary
from switchyard.types import ChatRequest, TemplateRef

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> dict[str, Any]:
    section = README.read_text().split("## Prompt templates\n", 1)[1].split("\n## ", 1)[0]
    config: dict[str, Any] = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    return config


async def test_the_readme_example_config_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHYARD_MASTER_KEY", "sk-example")
    config = load_config(example())
    library = TemplateLibrary(config.templates, config.template_limits)

    async def render(**ref: Any) -> list[str]:
        asked = ChatRequest(model="local", messages=[], template=TemplateRef(**ref))
        return [str(m.content) for m in (await library.apply(asked)).messages]

    assert await render(name="summarise", version=1, variables={"words": 20, "text": "T"}) == [
        "You summarise texts in at most 20 words.",
        "Summarise this text:\n\nT",
    ]
    assert await render(name="summarise", variables={"text": "T"}) == ["You summarise texts.", "T"]
    assert await render(name="summarise", variables={"text": "T", "audience": "experts"}) == [
        "You summarise texts for experts.",
        "T",
    ]
    with pytest.raises(InvalidRequest):
        await render(name="summarise", variables={"text": "T", "audience": "everyone"})
