"""``ChatRequest.reasoning`` onto each upstream's knob (pure): OpenAI chat
``reasoning_effort``, OpenAI Responses ``reasoning.effort``, Anthropic ``thinking`` with a
budget (the caller's own ``thinking`` wins; ``max_tokens`` stays above the budget), Gemini
``thinkingConfig``; others ignore it."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.formats.openai_chat import request_to_openai
from switchyard.providers.anthropic.translate import request_to_anthropic
from switchyard.providers.gemini.translate import chat_body
from switchyard.providers.openai.responses import request_to_responses
from switchyard.types import ChatRequest, FormatFields, Reasoning


def chat(**fields: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}], **fields)


def test_openai_chat_reasoning_effort() -> None:
    assert request_to_openai(chat(reasoning=Reasoning(effort="high")))["reasoning_effort"] == "high"
    assert "reasoning_effort" not in request_to_openai(chat())
    assert "reasoning_effort" not in request_to_openai(chat(reasoning=Reasoning(budget_tokens=9)))
    # the caller's own extra field wins
    body = request_to_openai(
        chat(reasoning=Reasoning(effort="high"), extra={"reasoning_effort": "low"})
    )
    assert body["reasoning_effort"] == "low"


def test_openai_responses_reasoning_effort() -> None:
    body = request_to_responses(chat(reasoning=Reasoning(effort="minimal")), stream=False)
    assert body["reasoning"] == {"effort": "minimal"}
    assert "reasoning" not in request_to_responses(chat(), stream=False)


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "expected"),
    [
        (Reasoning(effort="medium"), 16_000, {"type": "enabled", "budget_tokens": 10_000}),
        (Reasoning(effort="high"), 8_000, {"type": "enabled", "budget_tokens": 7_999}),
        (Reasoning(budget_tokens=2_048), 4_096, {"type": "enabled", "budget_tokens": 2_048}),
        (Reasoning(effort="low"), 1_000, None),  # no room for the 1024 minimum
        (Reasoning(effort="none"), 16_000, None),
    ],
)
def test_anthropic_thinking_budget(
    reasoning: Reasoning, max_tokens: int, expected: dict[str, Any] | None
) -> None:
    body = request_to_anthropic(
        chat(reasoning=reasoning, max_tokens=max_tokens), max_tokens=4096, stream=False
    )
    assert body.get("thinking") == expected
    assert body["max_tokens"] == max_tokens


def test_anthropic_callers_own_thinking_wins_and_temperature_blocks_it() -> None:
    own = {"type": "enabled", "budget_tokens": 1500}
    request = chat(
        reasoning=Reasoning(effort="high"),
        max_tokens=32_000,
        format_fields=FormatFields(format="anthropic", fields={"thinking": own}),
    )
    assert request_to_anthropic(request, max_tokens=4096, stream=False)["thinking"] == own
    cold = chat(reasoning=Reasoning(effort="high"), max_tokens=32_000, temperature=0.2)
    assert "thinking" not in request_to_anthropic(cold, max_tokens=4096, stream=False)


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        (Reasoning(budget_tokens=512), {"thinkingBudget": 512}),
        (Reasoning(effort="none"), {"thinkingBudget": 0}),
        (Reasoning(effort="low"), {"thinkingLevel": "low"}),
        (Reasoning(effort="xhigh"), {"thinkingLevel": "high"}),
    ],
)
def test_gemini_thinking_config(reasoning: Reasoning, expected: dict[str, Any]) -> None:
    body = chat_body(chat(reasoning=reasoning))
    assert body["generationConfig"]["thinkingConfig"] == expected
    assert "generationConfig" not in chat_body(chat())
