"""The library's conversations (``gateway.conversation``) in memory: turns stored with usage
and cost, streamed replies stored at their end and never when they fail, resuming by id,
the history fitted to a small window with the system prompt kept, summaries made through the
gateway, and the bounds (message size, messages kept, sessions per caller)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from switchyard import Gateway
from switchyard.conversations.fitting import SUMMARY_PREFIX
from switchyard.errors import (
    Conflict,
    ContextLengthExceeded,
    InvalidRequest,
    ModelNotAllowed,
    ModelNotFound,
    NotFound,
    PayloadTooLarge,
    ProviderUnavailable,
)
from switchyard.providers.fake import FakeFailure
from switchyard.records.record import RequestRecord
from switchyard.types import Grant, Principal
from tests.conversations.helpers import PRICES, config
from tests.fakes.gateway import fake_provider


async def test_say_answers_and_stores_both_turns_with_usage_and_cost() -> None:
    async with Gateway.from_config(config()) as gateway:
        conversation = gateway.conversation(model="roomy", system="You echo.")
        reply = await conversation.say("hello there")
        assert reply.text == "hello there"
        second = await conversation.say("again")
        # the second request carried the system prompt and the whole first exchange
        sent = fake_provider(gateway, "a").requests[-1].messages
        assert [(m.role, m.text()) for m in sent] == [
            ("system", "You echo."),
            ("user", "hello there"),
            ("assistant", "hello there"),
            ("user", "again"),
        ]
        turns = await conversation.history()
        assert [(t.role, t.content) for t in turns] == [
            ("user", "hello there"),
            ("assistant", "hello there"),
            ("user", "again"),
            ("assistant", "again"),
        ]
        answer = turns[3]
        assert answer.usage == second.usage and answer.usage is not None
        assert answer.usage.input_tokens == 7 and answer.usage.output_tokens == 1  # words
        expected = (7 * PRICES["input"] + 1 * PRICES["output"]) / 1e6
        assert answer.cost is not None and answer.cost.total == pytest.approx(expected)
        assert (answer.provider, answer.model) == ("a", "big-window")
        assert turns[0].usage is None and turns[0].id < turns[1].id < turns[2].id


async def test_a_streamed_reply_is_stored_once_it_ended_and_never_when_it_broke() -> None:
    async with Gateway.from_config(config()) as gateway:
        conversation = gateway.conversation(model="roomy")
        text = "".join([c.text or "" async for c in conversation.stream_say("one two three")])
        assert text == "one two three"
        turns = await conversation.history()
        assert [(t.role, t.content) for t in turns] == [
            ("user", "one two three"),
            ("assistant", "one two three"),
        ]
        assert turns[1].usage is not None and turns[1].usage.output_tokens == 3
        assert turns[1].cost is not None and turns[1].cost.total > 0

        fake_provider(gateway, "a").script(FakeFailure(mode="cut_stream", after_chunks=1))
        seen: list[str] = []
        with pytest.raises(ProviderUnavailable):
            async for chunk in conversation.stream_say("four five six"):
                seen.append(chunk.text or "")
        assert seen == ["four"]  # it had started: the answer was half-way
        assert len(await conversation.history()) == 2  # nothing half-written

        # a reader that stops early stores nothing either
        async for _ in conversation.stream_say("seven eight nine"):
            break
        assert len(await conversation.history()) == 2


async def test_a_failed_plain_reply_stores_nothing() -> None:
    async with Gateway.from_config(config()) as gateway:
        conversation = gateway.conversation(model="roomy")
        fake_provider(gateway, "a").script(FakeFailure(status=400, body="no"))
        with pytest.raises(InvalidRequest):
            await conversation.say("hi")
        assert await conversation.history() == []


async def test_a_conversation_resumes_by_id_for_its_owner_only() -> None:
    async with Gateway.from_config(config()) as gateway:
        first = gateway.conversation(model="roomy", system="Echo.")
        await first.say("remember me")
        again = gateway.conversation(id=first.id)
        assert (await again.session()).system == "Echo."
        await again.say("still here")
        assert [t.content for t in await first.history()][-1] == "still here"

        stranger = Principal("r", tenant="acme", key_id="k1")
        with pytest.raises(NotFound):
            await gateway.conversation(id=first.id, principal=stranger).say("hi")
        with pytest.raises(InvalidRequest, match="pass only id"):
            gateway.conversation(id=first.id, model="chat")
        with pytest.raises(InvalidRequest, match="needs a model"):
            gateway.conversation()


async def test_the_model_is_checked_when_the_conversation_is_made() -> None:
    async with Gateway.from_config(config()) as gateway:
        with pytest.raises(ModelNotFound):
            gateway.conversation(model="nope")
        limited = Principal("r", tenant="acme", key_id="k", grant=Grant(models=["chat"]))
        with pytest.raises(ModelNotAllowed):
            gateway.conversation(model="roomy", principal=limited)


async def test_at_a_small_window_the_oldest_turns_go_and_the_system_prompt_stays() -> None:
    # window 120, reply reserve 20: 100 tokens of prompt; a 40-character message is 14
    records: list[RequestRecord] = []
    sink = SimpleNamespace(emit=records.append)
    async with Gateway.from_config(config(), sinks=[sink]) as gateway:
        conversation = gateway.conversation(model="chat", system="S" * 40)
        said = [f"{n:02d}" + "x" * 38 for n in range(6)]
        for text in said:
            await conversation.say(text)
        sent = fake_provider(gateway, "a").requests[-1].messages
        # 14 (system) + 14 (new) + 2 pairs of 28: 98 <= 100; a third pair would be 126
        roles = ["system", "user", "assistant", "user", "assistant", "user"]
        assert [m.role for m in sent] == roles
        assert sent[0].text() == "S" * 40
        assert [m.text() for m in sent[1::2]] == said[3:]
        last = fake_provider(gateway, "a").requests[-1]
        assert gateway.count_tokens(last.model_copy(update={"model": "chat"})) <= 100
        assert len(await conversation.history()) == 12  # every turn is still stored

        with pytest.raises(ContextLengthExceeded) as refused:
            await conversation.say("y" * 400)
        assert refused.value.param == "content"
        assert len(await conversation.history()) == 12
    # the refused message is one record (so one usage row) like any refused request
    assert len(records) == 7
    assert (records[-1].alias, records[-1].status, records[-1].error_type) == (
        "chat",
        "error",
        "context_length_exceeded",
    )


async def test_dropped_turns_are_summarised_by_the_configured_alias_once() -> None:
    settings = config(summarise_with="summariser", summary_max_tokens=30)
    records: list[RequestRecord] = []
    sink = SimpleNamespace(emit=records.append)
    async with Gateway.from_config(settings, sinks=[sink]) as gateway:
        conversation = gateway.conversation(model="chat", system="S" * 40)
        # room: 100 - 30 for the summary = 70: the essentials (28) and one pair (28)
        for n in range(3):
            await conversation.say(f"{n:02d}" + "x" * 38)
        summariser = fake_provider(gateway, "s")
        assert summariser.calls == 1  # the third message pushed the first pair out
        asked = summariser.requests[-1]
        assert asked.max_tokens == 30
        assert asked.messages[1].text() == f"User: 00{'x' * 38}\nAssistant: 00{'x' * 38}"
        sent = fake_provider(gateway, "a").requests[-1].messages
        assert [m.role for m in sent] == ["system", "system", "user", "assistant", "user"]
        assert sent[1].text() == SUMMARY_PREFIX + "they talked about colours"
        session = await conversation.session()
        assert session.summary == "they talked about colours"
        turns = await conversation.history()
        assert session.summary_through == turns[1].id

        await conversation.say("03" + "x" * 38)  # the second pair goes: summarised on top
        assert summariser.calls == 2
        assert (
            summariser.requests[-1]
            .messages[1]
            .text()
            .startswith("Summary so far: they talked about colours\n\nUser: 01")
        )
        sent = fake_provider(gateway, "a").requests[-1].messages
        assert [m.text()[:2] for m in sent[2:]] == ["02", "02", "03"]
    # each summary is a request of the caller's like any other: recorded, so accounted
    assert [r.alias for r in records] == [
        "chat",
        "chat",
        "summariser",
        "chat",
        "summariser",
        "chat",
    ]
    assert all(r.status == "success" and r.cost is not None for r in records)


async def test_the_bounds_hold() -> None:
    settings = config(max_messages=4, max_message_chars=50, max_sessions=2)
    async with Gateway.from_config(settings) as gateway:
        conversation = gateway.conversation(model="roomy")
        for n in range(3):
            await conversation.say(f"message {n}")
        assert [t.content for t in await conversation.history()] == [
            "message 1",
            "message 1",
            "message 2",
            "message 2",
        ]
        with pytest.raises(PayloadTooLarge) as large:
            await conversation.say("z" * 51)
        assert large.value.param == "content"
        with pytest.raises(PayloadTooLarge) as large:
            gateway.conversation(model="roomy", system="z" * 51)
        assert large.value.param == "system"
        with pytest.raises(InvalidRequest) as bad:
            gateway.conversation(model="roomy", metadata={str(n): "v" for n in range(17)})
        assert bad.value.param == "metadata"

        await gateway.conversation(model="roomy").save()
        with pytest.raises(Conflict, match="max_sessions"):
            await gateway.conversation(model="roomy").save()
        other = Principal("r", tenant="acme", user="ada")  # another owner: its own count
        await gateway.conversation(model="roomy", principal=other).save()
        await conversation.delete()
        await gateway.conversation(model="roomy").save()  # room again
        with pytest.raises(NotFound):
            await conversation.say("gone")
