"""Shared fixtures."""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.fakes.fixtures import fresh
from tests.fakes.openai_upstream import OpenAIUpstream

# the database fixtures (sqlite_url, postgres_url, storage_url: both), for every suite
pytest_plugins = ["tests.databases"]


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis keeps files (the constants it reads from the source, at collection) in
    # ./.hypothesis by default: outside the working tree instead. The fuzz test has no database.
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "switchyard-tests-hypothesis")
    # The ledger's spool (one per database, under $XDG_STATE_HOME): this run's own, inherited
    # by the gateways it starts, so no run takes over another's rows.
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="switchyard-tests-state-")


def _is_local(address: Any) -> bool:
    if not isinstance(address, tuple):  # a unix socket path
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    """No test may reach past 127.0.0.1: a connection to any other address fails loudly."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach {address!r}: only loopback is allowed")
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach {address!r}: only loopback is allowed")
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = original_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def _openai_upstream_server() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream() as server:
        yield server


@pytest.fixture
def openai_upstream(_openai_upstream_server: OpenAIUpstream) -> Iterator[OpenAIUpstream]:
    """The fake OpenAI server (``.base_url``, ``.script(...)``, ``.requests``), fresh per test.

    One server runs for the session in a background thread; each test starts with an empty
    script and no recorded requests, and fails if it left scripted replies unconsumed.
    """
    with fresh(_openai_upstream_server) as upstream:
        yield upstream
