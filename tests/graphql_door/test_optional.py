"""The GraphQL door is an extra: without Strawberry the server starts, without ``/graphql``."""

from __future__ import annotations

import sys

import pytest
from starlette.routing import BaseRoute

from switchyard import Gateway
from switchyard.server.app import create_app

CONFIG = {
    "providers": {"a": {"type": "fake"}},
    "models": [{"name": "m", "deployments": [{"provider": "a", "model": "x"}]}],
}


def paths(routes: list[BaseRoute]) -> list[str]:
    return [getattr(route, "path", "") for route in routes]


def test_the_server_mounts_graphql_when_strawberry_is_installed() -> None:
    assert paths(create_app(Gateway.from_config(CONFIG)).routes).count("/graphql") == 2  # HTTP, WS


def test_without_strawberry_the_server_starts_without_graphql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(sys.modules):
        door = name.startswith("switchyard.doors.graphql.") and not name.endswith(".wire")
        if door or name == "strawberry" or name.startswith("strawberry."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "strawberry", None)  # import strawberry: ModuleNotFoundError
    routes = paths(create_app(Gateway.from_config(CONFIG)).routes)
    assert "/graphql" not in routes and "/v1/chat/completions" in routes
