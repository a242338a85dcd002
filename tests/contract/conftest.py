"""Fixtures of the contract suite: one fake upstream per adapter for the session, reset per
test; the adapter under test built against it."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from switchyard.providers.base import Provider
from tests.contract.case import ProviderCase
from tests.fakes.fixtures import fresh
from tests.fakes.upstream import FakeUpstream


def discover_cases() -> list[ProviderCase]:
    package = importlib.import_module("tests.contract")
    cases = []
    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        if module.startswith("case_"):
            cases.append(importlib.import_module(f"tests.contract.{module}").CASE)
    return cases


CASES = discover_cases()


@pytest.fixture(scope="session")
def _upstreams() -> Iterator[dict[str, FakeUpstream]]:
    servers: dict[str, FakeUpstream] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request: pytest.FixtureRequest) -> ProviderCase:
    chosen: ProviderCase = request.param
    return chosen


@pytest.fixture
def upstream(case: ProviderCase, _upstreams: dict[str, FakeUpstream]) -> Iterator[FakeUpstream]:
    server = _upstreams.get(case.name)
    if server is None:
        server = _upstreams[case.name] = case.upstream().start()
    with fresh(server, f"the fake {case.name} upstream") as fresh_server:
        yield fresh_server


@pytest.fixture
async def provider(case: ProviderCase, upstream: FakeUpstream) -> AsyncIterator[Provider[Any]]:
    adapter = case.provider(upstream.base_url)
    yield adapter
    await adapter.aclose()
