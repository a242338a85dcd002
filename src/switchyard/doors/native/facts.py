"""Catalog facts as the native API shows them (``capabilities`` on an answer, ``/api/v1/models``).

The Gateway answers the question (:meth:`~switchyard.gateway.Gateway.deployment_facts`,
:meth:`~switchyard.gateway.Gateway.model_catalog`); this module only renders, and remembers
the rendering of each deployment (at most :data:`MEMO_LIMIT` of them) so an answer does not
rebuild the same dict every time.
"""

from __future__ import annotations

from typing import Any

from switchyard.status import AliasFacts, DeploymentFacts

MEMO_LIMIT = 1024  # rendered deployments remembered (direct provider/model names are callers')


def facts_to_native(facts: DeploymentFacts) -> dict[str, Any]:
    """A :class:`~switchyard.doors.native.complete.ModelFacts`."""
    info, prices = facts.info, facts.prices
    return {
        "provider": facts.provider,
        "model": facts.model,
        "context_window": None if info is None else info.context_window,
        "max_output_tokens": None if info is None else info.max_output_tokens,
        "prices": None if prices is None else prices.model_dump(),
        "capabilities": None if info is None else info.capabilities.model_dump(),
        "strengths": [] if info is None else list(info.strengths),
        "use_cases": [] if info is None else list(info.use_cases),
        "quality": None if info is None else info.quality,
    }


class FactsRenderer:
    """Renders deployments' facts once each (answers share the dict: never mutate it)."""

    def __init__(self) -> None:
        self._memo: dict[str, dict[str, Any]] = {}

    def render(self, facts: DeploymentFacts) -> dict[str, Any]:
        rendered = self._memo.get(facts.key)
        if rendered is None:
            rendered = facts_to_native(facts)
            if len(self._memo) < MEMO_LIMIT:
                self._memo[facts.key] = rendered
        return rendered


def catalog_to_native(
    aliases: list[AliasFacts], deployments: list[DeploymentFacts]
) -> dict[str, Any]:
    """``GET /api/v1/models``: a :class:`~switchyard.doors.native.complete.ModelList`."""
    data: list[dict[str, Any]] = [
        {
            "id": alias.name,
            "type": "alias",
            "deployments": [facts_to_native(d) for d in alias.deployments],
        }
        for alias in aliases
    ]
    data += [
        {"id": d.key, "type": "deployment", "deployments": [facts_to_native(d)]}
        for d in deployments
    ]
    return {"object": "list", "data": data}


__all__ = ["MEMO_LIMIT", "FactsRenderer", "catalog_to_native", "facts_to_native"]
