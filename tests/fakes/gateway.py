"""Reaching into a gateway under test."""

from __future__ import annotations

from switchyard import Gateway
from switchyard.providers.fake import FakeProvider


def fake_provider(gateway: Gateway, name: str) -> FakeProvider:
    """The gateway's provider ``name``, which the test configured as ``type: fake``."""
    provider = gateway.providers[name]
    assert isinstance(provider, FakeProvider)
    return provider


__all__ = ["fake_provider"]
