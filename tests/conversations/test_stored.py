"""The library's conversations in the ``storage`` database (SQLite and PostgreSQL): a
conversation outlives its gateway and is resumed by id from another one, trimmed to
``max_messages`` there too, and still its owner's alone."""

from __future__ import annotations

import pytest

from switchyard import Gateway
from switchyard.conversations.sql_store import SqlStore
from switchyard.errors import NotFound
from switchyard.types import Principal
from tests.conversations.helpers import config
from tests.fakes.gateway import fake_provider

ADA = Principal("r", tenant="acme", user="ada", key_id="k1")


async def test_a_stored_conversation_is_resumed_by_another_gateway(storage_url: str) -> None:
    settings = config(storage_url, max_messages=4, summarise_with="summariser")
    async with Gateway.from_config(settings) as first:
        assert isinstance(first.sessions.store, SqlStore)
        conversation = first.conversation(
            model="roomy", system="Echo.", metadata={"team": "blue"}, principal=ADA
        )
        await conversation.say("one")
        text = "".join([c.text or "" async for c in conversation.stream_say("two")])
        assert text == "two"
        session_id = conversation.id

    async with Gateway.from_config(settings) as second:  # a restart, or another replica
        same_user = ADA._replace(key_id="k2")  # another key of the same user
        resumed = second.conversation(id=session_id, principal=same_user)
        session = await resumed.session()
        assert (session.model, session.system, session.metadata) == (
            "roomy",
            "Echo.",
            {"team": "blue"},
        )
        history = await resumed.history()
        assert [(t.role, t.content) for t in history] == [
            ("user", "one"),
            ("assistant", "one"),
            ("user", "two"),
            ("assistant", "two"),
        ]
        assert history[3].usage is not None and history[3].usage.output_tokens == 1
        assert history[3].cost is not None and history[3].cost.total > 0
        assert history[1].created_at.tzinfo is not None

        await resumed.say("three")
        sent = fake_provider(second, "a").requests[-1].messages
        assert [m.text() for m in sent] == ["Echo.", "one", "one", "two", "two", "three"]
        # max_messages: 4: the oldest pair is deleted once the third is stored
        assert [t.content for t in await resumed.history()] == ["two", "two", "three", "three"]

        for stranger in (
            Principal("r", tenant="globex", user="ada"),
            Principal("r", tenant="acme", user="bob"),
            Principal("r", tenant="acme", key_id="k1"),  # ada's key, but as a user-less owner
            Principal.anonymous_admin(),
        ):
            with pytest.raises(NotFound):
                await second.conversation(id=session_id, principal=stranger).history()
        page = await second.sessions.page(ADA)
        assert [s.id for s in page.sessions] == [session_id] and not page.has_more
        await resumed.delete()
        with pytest.raises(NotFound):
            await resumed.history()
