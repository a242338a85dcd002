"""The friendlier library: ``complete("prompt")``, ``embed("text")`` and the synchronous
facade ``switchyard.connect()``, all on the one async core (the scripted ``fake`` provider)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

import pytest
from tests.databases import read_usage
from tests.fakes.gateway import fake_provider

import switchyard
from switchyard import Gateway, InvalidRequest, ModelNotFound, ProviderUnavailable
from switchyard.providers.fake import FakeFailure
from switchyard.records.record import RequestRecord

CONFIG: dict[str, Any] = {
    "server": {"default_model": "smart"},
    "router": {"retries": 0},
    "providers": {"f": {"type": "fake"}, "g": {"type": "fake", "reply": "from g"}},
    "models": [
        {"name": "other", "deployments": [{"provider": "g", "model": "g-model"}]},
        {"name": "smart", "deployments": [{"provider": "f", "model": "f-model"}]},
        # the catalog knows this model embeds: the default embeddings model
        {"name": "vectors", "deployments": [{"provider": "f", "model": "all-minilm-l6-v2"}]},
    ],
}


class Records:
    """A record sink keeping what it was given."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


# -- complete and embed on the async Gateway ----------------------------------------------


async def test_complete_answers_a_plain_prompt_with_the_default_model() -> None:
    async with Gateway.from_config(CONFIG) as gateway:
        response = await gateway.complete("What is 2+2?")
        assert response.text == "What is 2+2?"  # the fake echoes the last user message
        assert response.served_by is not None and response.served_by.provider == "f"
        sent = fake_provider(gateway, "f").requests[-1]
        assert [(m.role, m.text()) for m in sent.messages] == [("user", "What is 2+2?")]


async def test_complete_takes_a_model_a_system_prompt_and_request_fields() -> None:
    async with Gateway.from_config(CONFIG) as gateway:
        response = await gateway.complete(
            "hi", model="other", system="Be brief.", max_tokens=7, temperature=0.1
        )
        assert response.text == "from g"
        sent = fake_provider(gateway, "g").requests[-1]
        assert [(m.role, m.text()) for m in sent.messages] == [
            ("system", "Be brief."),
            ("user", "hi"),
        ]
        assert (sent.max_tokens, sent.temperature) == (7, 0.1)


async def test_complete_without_server_default_uses_the_first_alias() -> None:
    config = {**CONFIG, "server": {}}
    async with Gateway.from_config(config) as gateway:
        assert (await gateway.complete("x")).text == "from g"  # "other" is the first alias


async def test_complete_refuses_what_is_not_a_string() -> None:
    async with Gateway.from_config(CONFIG) as gateway:
        with pytest.raises(InvalidRequest) as caught:
            await gateway.complete(["not", "a", "prompt"])  # type: ignore[arg-type]
        assert caught.value.param == "prompt"


async def test_complete_with_no_model_anywhere_is_an_invalid_request() -> None:
    config = {"providers": {"f": {"type": "fake"}}}
    sink = Records()
    async with Gateway.from_config(config, sinks=[sink]) as gateway:
        with pytest.raises(InvalidRequest) as caught:
            await gateway.complete("hello")
        assert caught.value.param == "model"
        assert [(r.kind, r.error_type) for r in sink.records] == [("chat", "invalid_request")]
        # provider/model works without any alias
        assert (await gateway.complete("hello", model="f/anything")).text == "hello"


async def test_embed_takes_one_string_or_a_list_and_finds_the_embedding_alias() -> None:
    sink = Records()
    async with Gateway.from_config(CONFIG, sinks=[sink]) as gateway:
        one = await gateway.embed("one text")
        assert len(one.data) == 1 and len(one.data[0]) == 8
        many = await gateway.embed(["one text", "two"], model="vectors")
        assert len(many.data) == 2
        assert many.data[0] == one.data[0]  # the same text, the same vector
        by_keyword = await gateway.embed(input="one text", model="smart")
        assert len(by_keyword.data) == 1
    assert [r.alias for r in sink.records] == ["vectors", "vectors", "smart"]


async def test_embed_without_an_embedding_alias_names_the_model_field() -> None:
    config = {
        "providers": {"f": {"type": "fake"}},
        "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "f-model"}]}],
    }
    sink = Records()
    async with Gateway.from_config(config, sinks=[sink]) as gateway:
        with pytest.raises(InvalidRequest) as caught:
            await gateway.embed("one text")
        assert caught.value.param == "model"
        with pytest.raises(InvalidRequest) as caught:
            await gateway.embed([1, 2], model="smart")  # type: ignore[list-item]
        assert caught.value.param is not None and caught.value.param.startswith("input")
    assert [(r.kind, r.error_type) for r in sink.records] == [("embed", "invalid_request")] * 2


# -- the synchronous facade ----------------------------------------------------------------


def test_connect_chats_completes_embeds_and_streams_synchronously() -> None:
    sink = Records()
    with switchyard.connect(CONFIG, sinks=[sink]) as gw:
        assert isinstance(gw, switchyard.SyncGateway)
        assert gw.complete("What is 2+2?").text == "What is 2+2?"
        chat = gw.chat(model="other", messages=[{"role": "user", "content": "hello"}])
        assert chat.text == "from g"
        assert len(gw.embed("one text").data) == 1
        stream = gw.stream(model="smart", messages=[{"role": "user", "content": "a b c d"}])
        pieces = [chunk.text for chunk in stream if chunk.text]
        assert "".join(pieces) == "a b c d"
        assert len(pieces) > 1  # chunk by chunk, not one joined answer
        assert stream.served_by is not None and stream.served_by.provider == "f"
        assert stream.usage is not None and stream.usage.output_tokens > 0
        assert [m.id for m in gw.models()][:3] == ["other", "smart", "vectors"]
    kinds = [(r.kind, r.status) for r in sink.records]
    assert kinds == [("chat", "success")] * 2 + [("embed", "success"), ("stream", "success")]


def test_the_facade_shares_one_loop_in_one_background_thread() -> None:
    threads: set[str] = set()
    loops: set[int] = set()

    async def where() -> None:
        threads.add(threading.current_thread().name)
        loops.add(id(asyncio.get_running_loop()))

    with switchyard.connect(CONFIG) as gw:
        gw.run(where())
        gw.complete("x")
        gw.run(where())
        thread = next(t for t in threading.enumerate() if t.name == "switchyard-sync")
    assert threads == {"switchyard-sync"} and len(loops) == 1
    assert not thread.is_alive()  # closing the facade stopped its loop


def test_errors_reach_the_caller_as_they_are() -> None:
    with switchyard.connect(CONFIG) as gw:
        with pytest.raises(ModelNotFound):
            gw.complete("x", model="nothing-called-this")
        gw.gateway.providers["f"].script(FakeFailure(status=503))  # type: ignore[attr-defined]
        with pytest.raises(ProviderUnavailable):
            gw.complete("x")
        with pytest.raises(ModelNotFound):  # a stream refused before its first chunk
            gw.stream(model="nothing-called-this", messages=[{"role": "user", "content": "x"}])
        assert gw.complete("still serving").text == "still serving"


def test_a_stream_left_early_is_closed_and_recorded_as_cancelled() -> None:
    sink = Records()
    with switchyard.connect(CONFIG, sinks=[sink]) as gw:
        request = {"model": "smart", "messages": [{"role": "user", "content": "a b c d e f"}]}
        with gw.stream(request) as stream:
            first = next(iter(stream))
            assert first.text
        assert list(stream) == []  # closed: nothing more
        never_read = gw.stream(request)
        never_read.close()
    assert [(r.kind, r.error_type) for r in sink.records] == [
        ("stream", "cancelled"),
        ("stream", "cancelled"),
    ]


def test_closing_writes_the_queued_usage_rows_and_later_calls_are_refused(
    sqlite_url: str,
) -> None:
    gw = switchyard.connect({**CONFIG, "storage": {"url": sqlite_url, "flush_seconds": 60}})
    gw.complete("count me")
    gw.close()  # the ledger's queue is flushed before the loop stops, whatever flush_seconds
    gw.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        gw.complete("x")
    rows, _ = asyncio.run(read_usage(sqlite_url))
    assert [(row["alias"], row["status"]) for row in rows] == [("smart", "success")]


async def test_works_where_an_event_loop_already_runs_in_this_thread() -> None:
    # Jupyter: the notebook's loop runs in the main thread while a cell calls the facade
    with switchyard.connect(CONFIG) as gw:
        assert gw.complete("from a notebook").text == "from a notebook"
        chunks = [
            c.text for c in gw.stream(model="smart", messages=[{"role": "user", "content": "x y"}])
        ]
        assert "".join(t for t in chunks if t) == "x y"


def test_a_call_from_the_facade_s_own_loop_is_refused_not_deadlocked() -> None:
    with switchyard.connect(CONFIG) as gw:

        async def inside() -> None:
            gw.complete("this would wait for itself")

        with pytest.raises(RuntimeError, match="its own event loop"):
            gw.run(inside())


def test_a_config_that_fails_leaves_no_thread_behind() -> None:
    before = {t.ident for t in threading.enumerate() if t.name == "switchyard-sync"}
    with pytest.raises(switchyard.ConfigError) as caught:
        switchyard.connect({"providers": {"x": {"type": "no-such-adapter"}}})
    assert caught.value.problems[0][0] == "providers.x.type"
    left = {t.ident for t in threading.enumerate() if t.name == "switchyard-sync"} - before
    assert left == set()


def test_a_call_cancelled_on_the_loop_raises_instead_of_waiting_forever() -> None:
    with switchyard.connect(CONFIG) as gw:

        async def cancelled() -> None:
            raise asyncio.CancelledError

        with pytest.raises(concurrent.futures.CancelledError):
            gw.run(cancelled())
        assert gw.complete("still serving").text == "still serving"
