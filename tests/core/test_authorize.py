"""The authorize stage in the library: a principal whose grant lacks the model gets 403
``model_not_allowed`` from chat, stream and embed (one record each, nothing sent upstream), and
``Gateway.models(principal)`` lists only what it may use."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard import Gateway
from switchyard.errors import AuthenticationError, ModelNotAllowed
from switchyard.records.record import RequestRecord
from switchyard.types import Principal
from switchyard.types.grants import Grant

CONFIG: dict[str, Any] = {
    "providers": {"f": {"type": "fake", "reply": "hi"}},
    "models": [
        {"name": "smart", "deployments": [{"provider": "f", "model": "m"}]},
        {"name": "fast", "deployments": [{"provider": "f", "model": "n"}]},
    ],
}
HELLO: Any = [{"role": "user", "content": "hello"}]


class Records:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


def tenant(models: set[str] | None) -> Principal:
    grant = Grant(None if models is None else frozenset(models))
    return Principal("r", tenant="acme", key_id="0123456789ab", user="ada", grant=grant)


async def test_a_model_outside_the_grant_is_refused_and_recorded() -> None:
    sink = Records()
    async with Gateway.from_config(CONFIG, sinks=[sink]) as gateway:
        caller = tenant({"smart"})
        assert (await gateway.chat(model="smart", messages=HELLO, principal=caller)).text == "hi"
        with pytest.raises(ModelNotAllowed, match="'fast'") as caught:
            await gateway.chat(model="fast", messages=HELLO, principal=caller)
        assert caught.value.status_code == 403 and caught.value.code == "model_not_allowed"
        with pytest.raises(ModelNotAllowed):
            gateway.stream(model="fast", messages=HELLO, principal=caller)
        with pytest.raises(ModelNotAllowed):
            await gateway.chat(model="f/n", messages=HELLO, principal=caller)
        with pytest.raises(ModelNotAllowed):
            await gateway.embed(model="fast", input="x", principal=caller)
        provider = gateway.providers["f"]
        assert len(provider.requests) == 1  # type: ignore[attr-defined]  # only the allowed one
    refused = sink.records[1:]
    assert [r.kind for r in refused] == ["chat", "stream", "chat", "embed"]
    for record in refused:
        assert record.error_type == "model_not_allowed" and record.http_status == 403
        assert record.principal.key_id == "0123456789ab" and record.provider is None


async def test_models_lists_what_the_principal_may_use() -> None:
    async with Gateway.from_config(CONFIG) as gateway:
        everything = [m.id for m in gateway.models()]
        assert everything == ["smart", "fast", "f/m", "f/n"]
        assert [m.id for m in gateway.models(Principal.anonymous_admin())] == everything
        assert [m.id for m in gateway.models(tenant(None))] == everything
        assert [m.id for m in gateway.models(tenant({"fast", "f/m"}))] == ["fast", "f/m"]


async def test_without_storage_there_are_no_virtual_keys() -> None:
    async with Gateway.from_config(CONFIG) as gateway:
        assert gateway.keyring is None
        with pytest.raises(AuthenticationError, match="no virtual keys"):
            await gateway.authenticate_key(b"sk-sy-" + b"0" * 55, "r")
