"""Pytest plumbing for the fake upstreams: one server per module (or session), fresh per test.

:func:`fresh` is the one per-test step every suite takes with a long-lived fake: reset it
(no script, no recorded requests), hand it to the test, and fail the test if it left scripted
replies unconsumed (a reply scripted for a request the code under test never made).
:func:`fake_upstream_fixtures` builds the usual pair of fixtures around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from tests.fakes.upstream import FakeUpstream

U = TypeVar("U", bound=FakeUpstream)


@contextmanager
def fresh(upstream: U, what: str | None = None) -> Iterator[U]:
    """``upstream`` reset for one test, reset again after it; the test fails if scripted
    replies were left. ``what`` names the upstream in that failure (default: its class)."""
    upstream.reset()
    yield upstream
    pending = upstream.pending
    upstream.reset()
    if pending:
        name = what or f"the fake {type(upstream).__name__}"
        pytest.fail(f"{pending} scripted replies of {name} were never requested")


def fake_upstream_fixtures(start: Callable[[], U]) -> tuple[Any, Any]:
    """Two fixtures for a test module: ``_server``, the fake ``start()`` returns, started once
    for the module, and ``upstream``, that server :func:`fresh` for each test. Assign them to
    module names (``_server, upstream = fake_upstream_fixtures(CohereUpstream)``): pytest
    collects fixtures from a module's attributes; the names they answer to are fixed here."""

    @pytest.fixture(scope="module", name="_server")
    def server() -> Iterator[U]:
        with start() as started:
            yield started

    @pytest.fixture(name="upstream")
    def upstream(_server: U) -> Iterator[U]:
        with fresh(_server) as test_upstream:
            yield test_upstream

    return server, upstream


__all__ = ["fake_upstream_fixtures", "fresh"]
