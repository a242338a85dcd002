"""Stored responses belong to their tenant: through the served gateway with virtual keys, on
SQLite and PostgreSQL (the ``responses`` table), another tenant's response id is a 404 for
every route and for ``previous_response_id``; the admin (the master key) reads any."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from switchyard.tenancy.settings import KeySpec
from tests.e2e.served import ServedGateway, serve

MASTER = "sk-master-5e1f0a2b3c4d5e6f7a8b9c0d1e2f3a4b"


def config(url: str) -> dict[str, Any]:
    return {
        "server": {"master_key": MASTER},
        "storage": {"url": url, "flush_seconds": 0.05, "key_cache_seconds": 30},
        "providers": {"a": {"type": "fake", "reply": "hello from a"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
        "tenants": [{"name": "acme"}, {"name": "globex"}],
    }


@pytest.fixture
def served(storage_url: str) -> Iterator[ServedGateway]:
    with serve(config(storage_url)) as s:
        yield s


def client_of(served: ServedGateway, tenant: str) -> openai.OpenAI:
    accounts = served.gateway.accounts
    assert accounts is not None
    _, secret = served.call(accounts.create_key(KeySpec(tenant=tenant)))
    return served.client(secret)


def test_another_tenants_response_is_not_found(served: ServedGateway) -> None:
    acme, globex = client_of(served, "acme"), client_of(served, "globex")
    first = acme.responses.create(model="smart", input="remember 42")
    assert first.output_text == "hello from a"
    # its own tenant continues it, reads it, lists its items
    second = acme.responses.create(model="smart", input="and?", previous_response_id=first.id)
    assert acme.responses.retrieve(first.id).id == first.id
    assert len(acme.responses.input_items.list(second.id).data) == 3
    # another tenant sees nothing of it
    with pytest.raises(openai.NotFoundError):
        globex.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        globex.responses.input_items.list(first.id)
    with pytest.raises(openai.NotFoundError):
        globex.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        globex.responses.create(model="smart", input="x", previous_response_id=first.id)
    # the admin reads any; the owner deletes it, and then it is gone for everyone
    assert served.client(MASTER).responses.retrieve(first.id).id == first.id
    acme.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        acme.responses.retrieve(first.id)


def test_a_stored_stream_is_read_back_and_continued(served: ServedGateway) -> None:
    acme = client_of(served, "acme")
    with acme.responses.stream(model="smart", input="tell me") as stream:
        final = stream.get_final_response()
    got = acme.responses.retrieve(final.id)
    assert got.output_text == final.output_text == "hello from a"
    assert got.usage is not None and got.usage.output_tokens > 0
    follow = acme.responses.create(model="smart", input="more", previous_response_id=final.id)
    items = acme.responses.input_items.list(follow.id, order="asc").data
    assert [item.role for item in items] == ["user", "assistant", "user"]  # type: ignore[union-attr]
