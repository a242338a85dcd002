"""A session answers one message at a time: a second message while a reply is under way is a
409 (recorded as a refused request), in memory and in the database across gateways, and the
session is free again however the reply ended (stored, failed, abandoned, cancelled), or,
for a replica that died mid-reply, once its claim expires (``busy_seconds``)."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from typing import Any

import pytest

from switchyard import Gateway
from switchyard.conversations.records import Owner, Session
from switchyard.conversations.sql_store import SqlStore
from switchyard.conversations.store import MemoryStore
from switchyard.errors import Conflict, InvalidRequest, PayloadTooLarge, ProviderUnavailable
from switchyard.providers.fake import FakeFailure
from switchyard.records.record import RequestRecord
from switchyard.types import Principal
from tests.conversations.helpers import config
from tests.fakes.gateway import fake_provider

ADA = Principal("r", tenant="acme", user="ada")


def slow(storage_url: str | None = None, **conversations: Any) -> dict[str, Any]:
    settings = config(storage_url, **conversations)
    settings["providers"]["a"]["latency"] = 0.4
    return settings


class Collect:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)

    def refused(self) -> list[RequestRecord]:
        return [r for r in self.records if r.error_type == Conflict.code]


async def test_a_second_message_during_a_reply_is_refused_and_nothing_interleaves() -> None:
    async with Gateway.from_config(slow()) as gateway:
        sink = Collect()
        gateway.sinks.append(sink)
        conversation = gateway.conversation(model="roomy", principal=ADA)
        await conversation.save()
        first = asyncio.create_task(conversation.say("one"))
        await asyncio.sleep(0.1)  # the first reply is waiting for its upstream
        with pytest.raises(Conflict) as refusal:
            await conversation.say("two")
        assert refusal.value.status_code == 409 and refusal.value.param == "session_id"
        assert (await first).text == "one"
        await conversation.say("three")  # free again once the first was stored
        history = await conversation.history()
        assert [t.content for t in history] == ["one", "one", "three", "three"]
        assert [(r.kind, r.status) for r in sink.refused()] == [("chat", "error")]


async def test_the_session_is_free_again_however_the_reply_ended() -> None:
    async with Gateway.from_config(config()) as gateway:
        conversation = gateway.conversation(model="roomy", principal=ADA)
        fake = fake_provider(gateway, "a")
        fake.script(FakeFailure(status=400, body="no"))
        with pytest.raises(InvalidRequest):  # a plain reply that failed
            await conversation.say("one")
        fake.script(FakeFailure(mode="cut_stream", after_chunks=1))
        with pytest.raises(ProviderUnavailable):  # a stream that broke half-way
            async for _ in conversation.stream_say("two three"):
                pass
        fake.script(FakeFailure(status=400, body="no"))
        with pytest.raises(InvalidRequest):  # a stream that failed before its first byte
            async for _ in conversation.stream_say("four"):
                pass
        async with aclosing(conversation.stream_say("five six")) as chunks:
            async for _ in chunks:  # a reader that stopped early, closing the stream
                break
        assert (await conversation.say("x")).text == "x"
        async for _ in conversation.stream_say("y z"):  # one that just stopped: the stream is
            break  # closed when Python finalizes the abandoned generator, a moment later
        await asyncio.sleep(0.01)
        with pytest.raises(PayloadTooLarge):  # refused while the reply was being prepared
            await conversation.say("x" * 200_000)
        assert (await conversation.say("seven")).text == "seven"
        assert [t.content for t in await conversation.history()] == ["x", "x", "seven", "seven"]


async def test_a_cancelled_reply_frees_its_session() -> None:
    async with Gateway.from_config(slow()) as gateway:
        conversation = gateway.conversation(model="roomy", principal=ADA)
        await conversation.save()
        first = asyncio.create_task(conversation.say("one"))
        await asyncio.sleep(0.1)
        first.cancel()  # its client went away
        with pytest.raises(asyncio.CancelledError):
            await first
        assert (await conversation.say("two")).text == "two"


async def test_a_streamed_reply_holds_the_session_until_it_ends() -> None:
    async with Gateway.from_config(config()) as gateway:
        conversation = gateway.conversation(model="roomy", principal=ADA)
        chunks = conversation.stream_say("one two three")
        assert (await anext(chunks)).text == "one"
        with pytest.raises(Conflict):
            await conversation.say("meanwhile")
        rest = [c.text async for c in chunks]
        assert "".join(t or "" for t in rest) == " two three"
        assert (await conversation.say("after")).text == "after"


async def test_the_claim_is_shared_by_gateways_on_one_database(storage_url: str) -> None:
    settings = slow(storage_url)
    async with Gateway.from_config(settings) as one, Gateway.from_config(settings) as two:
        assert isinstance(one.sessions.store, SqlStore)
        here = one.conversation(model="roomy", principal=ADA)
        await here.save()
        there = two.conversation(id=here.id, principal=ADA)  # another replica
        first = asyncio.create_task(here.say("one"))
        await asyncio.sleep(0.15)
        with pytest.raises(Conflict):
            await there.say("two")
        await first
        assert (await there.say("three")).text == "three"
        assert [t.content for t in await there.history()] == ["one", "one", "three", "three"]


@pytest.mark.parametrize("where", ["memory", "database"])
async def test_a_claim_expires_and_storing_the_pair_releases_it(
    where: str, request: pytest.FixtureRequest
) -> None:
    gateway = None
    if where == "memory":
        store: MemoryStore | SqlStore = MemoryStore(capacity=10)
    else:
        url = request.getfixturevalue("sqlite_url")
        gateway = Gateway.from_config(config(url))
        await gateway.start()
        assert isinstance(gateway.sessions.store, SqlStore)
        store = gateway.sessions.store
    try:
        session = Session.new(Owner.of(ADA), "roomy", None, {})
        await store.create(session, max_sessions=5)
        assert await store.claim(session, 0.3)
        assert not await store.claim(session, 0.3)  # busy
        await store.release(session)
        assert await store.claim(session, 0.3)  # released
        await store.append(session, [], keep=10, summary=None)
        assert await store.claim(session, 0.3)  # storing the pair released it
        started = time.monotonic()
        while not await store.claim(session, 0.3):  # a dead replica's claim: it expires
            assert time.monotonic() - started < 5
            await asyncio.sleep(0.05)
        assert time.monotonic() - started >= 0.2
    finally:
        if gateway is not None:
            await gateway.aclose()
