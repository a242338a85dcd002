"""The embedded defaults judge offline: ``comparison.model: local`` is SmolLM2 in llama.cpp,
held to the answer's JSON schema by a sampling grammar, so even a 135M-parameter model answers
a usable judgement at the first call. One real comparison (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard import Gateway
from switchyard.config.load import load_config
from tests.local_model import needs_local_model

pytestmark = needs_local_model


async def test_the_local_model_answers_a_comparison_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the defaults' SQLite file lands there
    config = load_config(None, env={})  # the embedded defaults, exactly
    assert config.comparison.model == "local"
    async with Gateway.from_config(config) as gateway:
        result = await gateway.compare(
            user_prompt="Write two sentences on why exercise is good for you.",
            essay_a="Exercise strengthens the heart and lifts the mood. It also helps people "
            "sleep better.",
            essay_b="exercise good. i like cake.",
            correlation_id="offline-1",
        )
    assert result.calls == 1  # the grammar made the first answer valid JSON in the schema
    assert result.winner in ("essay_a", "essay_b")
    assert 0 <= result.confidence <= 1 and result.justification
    assert (result.provider, result.model) == ("local", "smollm2-135m-instruct")
    assert result.usage.input_tokens > 100 and result.usage.output_tokens > 0
    assert result.cost is not None and result.cost.total == 0  # priced, at 0
    assert result.correlation_id == "offline-1"
