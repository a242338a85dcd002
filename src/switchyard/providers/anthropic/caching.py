"""Prompt-caching markers for Anthropic, asked for through ``ChatRequest.extra``.

Anthropic caches a prompt prefix up to a block that carries ``cache_control``. The canonical
types have no cache markers, so callers ask through ``extra`` (from the OpenAI-compatible door:
``extra_body={...}``), in either of two ways:

``"cache_control": {"type": "ephemeral"}`` (``"ttl": "1h"`` optional)
    sent as it is, as Anthropic's top-level ``cache_control``: automatic caching, where the API
    puts the breakpoint on the last cacheable block and moves it forward as a conversation grows.

``"cache_breakpoints": ["tools", "system", 2, -1]``
    explicit breakpoints (Anthropic allows four per request). Each item marks the last block of
    ``"tools"`` (the tool definitions), ``"system"`` (the system prompt) or the message at that
    position in ``ChatRequest.messages`` (negative counts from the end: ``-1`` is the last
    message); an item may also be ``{"at": <one of those>, "ttl": "1h"}``. This key is read
    here and never sent upstream. Consecutive messages of one role share an Anthropic turn, so
    a marker on a message covers everything up to and including that message's last block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from switchyard.errors import InvalidRequest

BREAKPOINTS_KEY = "cache_breakpoints"
_PARAM = "extra.cache_breakpoints"
_TTLS = frozenset({"5m", "1h"})

Target = Literal["tools", "system"] | int


@dataclass(frozen=True, slots=True)
class Breakpoint:
    at: Target  # "tools", "system" or a message position (never negative once parsed)
    ttl: str | None = None

    def marker(self) -> dict[str, str]:
        marker = {"type": "ephemeral"}
        if self.ttl is not None:
            marker["ttl"] = self.ttl
        return marker


def parse_breakpoints(value: Any, message_count: int) -> list[Breakpoint]:
    """``extra["cache_breakpoints"]`` as breakpoints; anything malformed is an
    ``InvalidRequest`` naming ``extra.cache_breakpoints``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("must be a list")
    return [_breakpoint(item, n, message_count) for n, item in enumerate(value)]


def _breakpoint(item: Any, n: int, message_count: int) -> Breakpoint:
    ttl: Any = None
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - {"at", "ttl"})
        if unknown:
            raise _invalid(f"item {n}: unknown key {unknown[0]!r}")
        ttl = item.get("ttl")
        if ttl is not None and ttl not in _TTLS:
            raise _invalid(f"item {n}: ttl must be '5m' or '1h'")
        item = item.get("at")
    if item == "tools" or item == "system":
        return Breakpoint(item, ttl)
    if isinstance(item, int) and not isinstance(item, bool):
        position = item + message_count if item < 0 else item
        if not 0 <= position < message_count:
            raise _invalid(f"item {n}: there is no message {item}")
        return Breakpoint(position, ttl)
    raise _invalid(f"item {n}: expected 'tools', 'system' or a message position")


def apply_breakpoints(
    breakpoints: list[Breakpoint],
    *,
    tools: list[dict[str, Any]],
    system: list[dict[str, Any]],
    last_blocks: Mapping[int, dict[str, Any]],
) -> None:
    """Put each breakpoint's marker on the wire block it names (blocks are changed in place).

    ``last_blocks`` maps a canonical message position to the last wire block made from it."""
    for point in breakpoints:
        block: dict[str, Any] | None
        if isinstance(point.at, int):
            block = last_blocks.get(point.at)
        elif point.at == "tools":
            block = tools[-1] if tools else None
        else:
            block = system[-1] if system else None
        if block is None:
            raise _invalid(f"{point.at!r} has no content to mark")
        block["cache_control"] = point.marker()


def _invalid(detail: str) -> InvalidRequest:
    return InvalidRequest(f"{_PARAM}: {detail}", param=_PARAM)


__all__ = ["BREAKPOINTS_KEY", "Breakpoint", "apply_breakpoints", "parse_breakpoints"]
