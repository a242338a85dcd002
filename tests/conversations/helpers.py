"""A gateway for conversation tests: the scripted ``fake`` provider behind aliases whose
model has a known (small) context window and known prices, and a summariser alias."""

from __future__ import annotations

from typing import Any

WINDOW = 120  # tokens: the estimate counts ceil(chars / 4) + 4 per message
PRICES = {"input": 2.0, "output": 8.0}  # USD per million tokens


def config(storage_url: str | None = None, **conversations: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "providers": {
            "a": {"type": "fake"},  # echoes the last user message
            "s": {"type": "fake", "reply": "they talked about colours"},
        },
        "models": [
            {"name": "chat", "deployments": [{"provider": "a", "model": "tiny-window"}]},
            {"name": "roomy", "deployments": [{"provider": "a", "model": "big-window"}]},
            {"name": "summariser", "deployments": [{"provider": "s", "model": "big-window"}]},
        ],
        "catalog": {
            "models": [
                {
                    "name": "tiny-window",
                    "provider": "fake",
                    "context_window": WINDOW,
                    "prices": PRICES,
                },
                {
                    "name": "big-window",
                    "provider": "fake",
                    "context_window": 100_000,
                    "prices": PRICES,
                },
            ]
        },
        "conversations": {"reply_reserve_tokens": 20, **conversations},
    }
    if storage_url is not None:
        settings["storage"] = {"url": storage_url, "flush_seconds": 0.05}
    return settings


__all__ = ["PRICES", "WINDOW", "config"]
