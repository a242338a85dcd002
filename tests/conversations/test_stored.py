"""The library's conversations in the ``storage`` database (SQLite and PostgreSQL): a
conversation outlives its gateway and is resumed by id from another one, trimmed to
``max_messages`` there too, and still its owner's alone."""

from __future__ import annotations

import pytest

from switchyard import Gateway
from switchyard.conversations.sql_store import SqlStore
from switchyard.conversations.summary import INSTRUCTION
from switchyard.errors import NotFound
from switchyard.types import ChatRequest, Message, Principal
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


async def test_summarising_a_long_history_fits_the_summarisers_own_window(
    sqlite_url: str,
) -> None:
    """Summaries turned on for a session with a long stored history: the turns left out are
    more than the summariser's window takes, so the oldest of them are left out of the
    summary too, instead of every later message failing."""
    plain = config(sqlite_url)
    async with Gateway.from_config(plain) as gateway:
        conversation = gateway.conversation(model="chat", system="S" * 40)
        for n in range(6):  # stored whole; only the newest fit the 120-token window
            await conversation.say(f"{n:02d}" + "x" * 38)
        instruction = ChatRequest(
            model="chat", messages=[Message(role="system", content=INSTRUCTION)]
        )
        empty = ChatRequest(model="chat", messages=[Message(role="user", content="")])
        turn = ChatRequest(model="chat", messages=[Message(role="user", content="x" * 40)])
        fixed = gateway.count_tokens(instruction) + gateway.count_tokens(empty)
        one_pair = 2 * gateway.count_tokens(turn)

    summarising = config(sqlite_url, summarise_with="small-summariser", summary_max_tokens=30)
    summarising["models"].append(
        {"name": "small-summariser", "deployments": [{"provider": "s", "model": "small-window"}]}
    )
    window = fixed + 30 + one_pair  # the instruction, the reply, and one pair of turns
    summarising["catalog"]["models"].append(
        {"name": "small-window", "provider": "fake", "context_window": window}
    )
    async with Gateway.from_config(summarising) as gateway:
        resumed = gateway.conversation(id=conversation.id)
        await resumed.say("06" + "x" * 38)
        asked = fake_provider(gateway, "s").requests[-1]
        # pairs 00-04 no longer fit the chat window; only pair 04 fits the summariser's
        assert asked.messages[1].text() == f"User: 04{'x' * 38}\nAssistant: 04{'x' * 38}"
        sent = fake_provider(gateway, "a").requests[-1].messages
        assert [m.text()[:2] for m in sent[2:]] == ["05", "05", "06"]
        session = await resumed.session()
        history = await resumed.history()
        assert session.summary_through == history[9].id  # every left-out turn: 00 to 04
