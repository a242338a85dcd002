"""Mid-stream failover (``mid_stream_failover: true``) on the scripted `fake` provider."""

from __future__ import annotations

from typing import Any

import pytest
from tests.fakes.gateway import fake_provider

from switchyard import Gateway, ProviderUnavailable
from switchyard.errors import InvalidRequest
from switchyard.midstream import (
    CONTINUE_INSTRUCTION,
    Transcript,
    can_continue,
    continuation_request,
    next_candidates,
)
from switchyard.providers.fake import FakeFailure
from switchyard.types import ChatChunk, ChatRequest, ResponseFormat, ToolCallDelta

HELLO = [{"role": "user", "content": "count to four"}]
CUT = FakeFailure(mode="cut_stream", after_chunks=2)


def make_gateway(*, failover: bool = True, **alias: Any) -> Gateway:
    config = {
        "providers": {
            "a": {"type": "fake", "reply": "one two three four"},
            "b": {"type": "fake", "reply": " three four"},
            "c": {"type": "fake", "reply": " four"},
        },
        "models": [
            {
                "name": "smart",
                **({"mid_stream_failover": True} if failover else {}),
                **alias,
                "deployments": [
                    {"provider": p, "model": f"{p}-model", "prices": {"input": 1, "output": 2}}
                    for p in "abc"
                ],
            }
        ],
        "router": {"retries": 0},
    }
    return Gateway.from_config(config)


async def test_a_stream_cut_mid_way_continues_on_the_next_deployment() -> None:
    gateway = make_gateway()
    fake_provider(gateway, "a").script(CUT)
    stream = gateway.stream(model="smart", messages=HELLO, max_tokens=50)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.text or "" for c in chunks) == "one two three four"
    assert [c.text for c in chunks if c.text] == ["one", " two", " three", " four"]
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert [c.role for c in chunks].count("assistant") == 1
    markers = [(i, c.failover) for i, c in enumerate(chunks) if c.failover is not None]
    assert len(markers) == 1
    index, marker = markers[0]
    assert chunks[index].text == " three"
    assert marker is not None
    assert (marker.from_deployment, marker.to_deployment) == ("a/a-model", "b/b-model")
    assert "cut" in marker.reason
    assert stream.failovers == [marker]
    # b was asked to continue the partial answer
    sent = fake_provider(gateway, "b").requests[-1]
    assert [(m.role, m.text()) for m in sent.messages] == [
        ("user", "count to four"),
        ("assistant", "one two"),
        ("user", CONTINUE_INSTRUCTION),
    ]
    assert sent.max_tokens is not None and 40 < sent.max_tokens < 50
    # usage and cost are both legs'
    b_usage = fake_usage(sent, " three four")
    assert stream.usage is not None
    # a never reported usage: its "one two" is estimated (ceil(7 characters / 4) = 2 tokens)
    assert stream.usage.output_tokens == b_usage[1] + 2
    assert stream.usage.input_tokens > b_usage[0]
    final = chunks[-1]
    assert final.cost is not None and final.cost.total == pytest.approx(
        (stream.usage.input_tokens * 1 + stream.usage.output_tokens * 2) / 1e6
    )
    assert all(h.in_flight == 0 for h in gateway.health.deployments.values())
    assert gateway.health.get("a/a-model").failures == 1


def fake_usage(request: ChatRequest, reply: str) -> tuple[int, int]:
    """The fake provider's own usage for ``reply`` (words of the prompt, words of the reply)."""
    return sum(len(m.text().split()) for m in request.messages), len(reply.split())


async def test_off_by_default_a_cut_stream_ends_with_the_error() -> None:
    gateway = make_gateway(failover=False)
    fake_provider(gateway, "a").script(CUT)
    received: list[str] = []
    with pytest.raises(ProviderUnavailable):
        async for chunk in gateway.stream(model="smart", messages=HELLO):
            received.append(chunk.text or "")
    assert received == ["one", " two"]
    assert fake_provider(gateway, "b").calls == 0


async def test_a_continuation_that_breaks_too_moves_on_again() -> None:
    gateway = make_gateway()
    fake_provider(gateway, "a").script(CUT)
    fake_provider(gateway, "b").script(FakeFailure(mode="cut_stream", after_chunks=1))
    stream = gateway.stream(model="smart", messages=HELLO)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.text or "" for c in chunks) == "one two three four"
    assert [(f.from_deployment, f.to_deployment) for f in stream.failovers] == [
        ("a/a-model", "b/b-model"),
        ("b/b-model", "c/c-model"),
    ]
    assert fake_provider(gateway, "c").requests[-1].messages[1].text() == "one two three"


async def test_when_no_deployment_can_continue_the_original_error_stands() -> None:
    gateway = make_gateway()
    fake_provider(gateway, "a").script(CUT)
    fake_provider(gateway, "b").script(FakeFailure(status=503))
    fake_provider(gateway, "c").script(FakeFailure(status=503))
    received: list[str] = []
    with pytest.raises(ProviderUnavailable) as caught:
        async for chunk in gateway.stream(model="smart", messages=HELLO):
            received.append(chunk.text or "")
    assert received == ["one", " two"] and "cut" in str(caught.value)


async def test_json_mode_streams_are_not_continued() -> None:
    gateway = make_gateway()
    fake_provider(gateway, "a").script(CUT)
    with pytest.raises(ProviderUnavailable):
        async for _ in gateway.stream(
            model="smart", messages=HELLO, response_format={"type": "json_object"}
        ):
            pass
    assert fake_provider(gateway, "b").calls == 0


def chunk(**fields: Any) -> ChatChunk:
    return ChatChunk(id="x", created=0, model="m", **fields)


def test_what_can_be_continued() -> None:
    request = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])
    broken = ProviderUnavailable("reset")
    text = Transcript()
    text.observe(chunk(role="assistant", text="Hello"))
    assert can_continue(request, text, broken)
    assert not can_continue(request, text, InvalidRequest("no"))  # not retryable
    tools = Transcript()
    tools.observe(chunk(tool_calls=[ToolCallDelta(index=0, id="c", name="f")]))
    assert not can_continue(request, tools, broken)
    done = Transcript()
    done.observe(chunk(text="all", finish_reason="stop"))
    assert not can_continue(request, done, broken)
    schema = request.model_copy(update={"response_format": ResponseFormat(type="json_schema")})
    assert not can_continue(schema, text, broken)
    assert not can_continue(request.model_copy(update={"n": 2}), text, broken)


def test_continuation_request_shape() -> None:
    request = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=10)
    assert continuation_request(request, "", 0) is request  # nothing said yet: ask again
    again = continuation_request(request, "Hel", 20)
    assert [m.role for m in again.messages] == ["user", "assistant", "user"]
    assert again.messages[1].text() == "Hel" and again.max_tokens == 1
    assert request.messages[-1].text() == "hi"  # the original is untouched


def test_next_candidates_wrap_around_and_skip_broken_ones() -> None:
    gateway = make_gateway()
    a, b, c = gateway.router.aliases["smart"].candidates
    assert next_candidates([a, b, c], b, {b.key}) == [c, a]
    assert next_candidates([a, b, c], c, {a.key, c.key}) == [b]
