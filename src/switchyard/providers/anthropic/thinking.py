"""A canonical :class:`~switchyard.types.Reasoning` as Anthropic's extended thinking (pure).

``thinking: {"type": "enabled", "budget_tokens": n}``: the caller's ``budget_tokens`` when it
gave one, else the budget its ``effort`` stands for (:data:`EFFORT_BUDGETS`); effort ``none``
asks for no thinking. Anthropic wants ``max_tokens`` above the budget and at least 1024 for
it, and refuses thinking with a changed ``temperature`` or a forced tool choice: the budget is
cut to ``max_tokens - 1`` and, when that leaves under 1024 or the request cannot think, no
thinking is asked for (the request goes on without it rather than failing).
"""

from __future__ import annotations

from typing import Any

from switchyard.types import Reasoning

MIN_BUDGET = 1024
EFFORT_BUDGETS: dict[str, int] = {
    "minimal": 1024,
    "low": 4096,
    "medium": 10_000,
    "high": 24_000,
    "xhigh": 32_000,
}


def thinking_for(reasoning: Reasoning, body: dict[str, Any]) -> dict[str, Any] | None:
    """The ``thinking`` field for a ``POST /v1/messages`` ``body`` (its ``max_tokens``,
    ``temperature`` and ``tool_choice`` already set), or None."""
    if reasoning.budget_tokens is not None:
        budget = reasoning.budget_tokens
    elif reasoning.effort is not None:
        budget = EFFORT_BUDGETS.get(reasoning.effort, 0)
    else:
        return None
    temperature = body.get("temperature")
    choice = body.get("tool_choice")
    if temperature not in (None, 1, 1.0) or (
        isinstance(choice, dict) and choice.get("type") in ("any", "tool")
    ):
        return None
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, int):
        budget = min(budget, max_tokens - 1)
    if budget < MIN_BUDGET:
        return None
    return {"type": "enabled", "budget_tokens": budget}


__all__ = ["EFFORT_BUDGETS", "MIN_BUDGET", "thinking_for"]
