"""The contract every adapter keeps, run against each one's fake upstream (see ``case.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from switchyard.errors import (
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.providers.base import Provider
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    EmbeddingRequest,
    FilePart,
    ImagePart,
    Message,
    Prices,
    ResponseFormat,
    TextPart,
    Tool,
    ToolCall,
)
from tests.contract.case import ProviderCase, WireUsage
from tests.fakes.documents import PDF_DATA_URL
from tests.fakes.upstream import FakeUpstream, Reply

DEFAULT_STATUSES: dict[int, type[Exception]] = {
    400: InvalidRequest,
    401: UpstreamAuthenticationError,
    403: UpstreamAuthenticationError,
    404: ModelNotFound,
    413: PayloadTooLarge,
    429: RateLimited,
    500: ProviderUnavailable,
    503: ProviderUnavailable,
    529: ProviderUnavailable,
}
WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
)
ARGUMENT_PIECES = ['{"ci', 'ty": "Par', "is, Fr", 'ance", "un', 'it": "celsius"}']
# a 1x1 transparent PNG
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def ask(
    case: ProviderCase, text: str = "What is the capital of France?", **fields: Any
) -> ChatRequest:
    messages = [Message(role="system", content="Be brief."), Message(role="user", content=text)]
    return ChatRequest(model=case.model, messages=messages, **fields)


async def collect(provider: Provider[Any], request: ChatRequest) -> list[ChatChunk]:
    return [chunk async for chunk in provider.stream(request)]


def need(case: ProviderCase, capability: str) -> None:
    if not getattr(case.capabilities, capability):
        pytest.skip(f"{case.name} does not declare {capability}")


async def test_chat_text_usage_and_cost(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    usage = WireUsage(input=1200, output=300, cached=200)
    upstream.script(case.wire.text("Paris.", usage))
    response = await provider.chat(ask(case))
    assert response.text == "Paris."
    assert response.choices[0].finish_reason == "stop"
    got = response.usage
    cached = 200 if case.reports_cached_tokens else 0
    assert (got.input_tokens, got.output_tokens, got.cached_input_tokens) == (1200, 300, cached)
    cost = Prices(input=3.0, output=15.0, cached_input=0.3).cost(got)
    assert cost.total == pytest.approx(((1200 - cached) * 3.0 + cached * 0.3 + 300 * 15.0) / 1e6)
    sent = case.wire.sent_text(upstream.requests[0])
    assert "Be brief." in sent and "capital of France" in sent


async def test_stream_reassembles_exactly(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "stream")
    pieces = ["The capital", " of France", " is Paris", ".\n", "  Indeed."]
    upstream.script(case.wire.text_stream(pieces, WireUsage(input=20, output=9)))
    chunks = await collect(provider, ask(case))
    assert "".join(c.text or "" for c in chunks) == "".join(pieces)
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    usage = [c.usage for c in chunks if c.usage is not None]
    assert usage and (usage[-1].input_tokens, usage[-1].output_tokens) == (20, 9)
    assert len({c.id for c in chunks}) == 1, "a stream keeps one id"


async def test_tool_call_round_trip(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "tools")
    arguments = "".join(ARGUMENT_PIECES)
    upstream.script(case.wire.tool_call("call_1", "get_weather", arguments))
    request = ask(case, "Weather in Paris?", tools=[WEATHER], tool_choice="auto")
    first = await provider.chat(request)
    assert first.choices[0].finish_reason == "tool_calls"
    calls = first.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert (calls[0].name, calls[0].arguments) == ("get_weather", arguments)
    assert case.wire.sent_tool_names(upstream.requests[0]) == ["get_weather"]

    upstream.script(case.wire.text("It is 18 degrees in Paris.", WireUsage()))
    follow_up = request.model_copy(
        update={
            "messages": [
                *request.messages,
                Message(
                    role="assistant",
                    tool_calls=[ToolCall(id=calls[0].id, name="get_weather", arguments=arguments)],
                ),
                Message(role="tool", tool_call_id=calls[0].id, content='{"celsius": 18}'),
            ]
        }
    )
    answer = await provider.chat(follow_up)
    assert answer.text == "It is 18 degrees in Paris."
    assert case.wire.sent_tool_result(upstream.requests[1]) == (calls[0].id, '{"celsius": 18}')


async def test_streamed_tool_call_arguments_are_byte_identical(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "tools")
    need(case, "stream")
    upstream.script(case.wire.tool_call_stream("call_9", "get_weather", ARGUMENT_PIECES))
    chunks = await collect(provider, ask(case, "Weather?", tools=[WEATHER]))
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert {d.index for d in deltas} == {0}
    assert [d.name for d in deltas if d.name] == ["get_weather"]
    assert [d.id for d in deltas if d.id] == ["call_9"]
    assert "".join(d.arguments or "" for d in deltas) == "".join(ARGUMENT_PIECES)
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]


async def test_json_mode_reaches_the_upstream(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "json_mode")
    upstream.script(case.wire.text('{"capital": "Paris"}', WireUsage()))
    response = await provider.chat(ask(case, response_format=ResponseFormat(type="json_object")))
    assert response.text == '{"capital": "Paris"}'
    assert case.wire.sent_json_mode(upstream.requests[0])


async def test_images_reach_the_upstream(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "vision")
    upstream.script(case.wire.text("A transparent pixel.", WireUsage()))
    message = Message(role="user", content=[TextPart(text="What is this?"), ImagePart(url=PIXEL)])
    await provider.chat(ChatRequest(model=case.model, messages=[message]))
    assert case.wire.sent_image(upstream.requests[0])


async def test_documents_reach_the_upstream(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "documents")
    upstream.script(case.wire.text("A quarterly report.", WireUsage()))
    pdf = FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf")
    message = Message(role="user", content=[TextPart(text="What is this?"), pdf])
    await provider.chat(ChatRequest(model=case.model, messages=[message]))
    assert case.wire.sent_document(upstream.requests[0])


@pytest.mark.parametrize("status", sorted(DEFAULT_STATUSES))
async def test_errors_map_onto_the_taxonomy(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any], status: int
) -> None:
    expected = {**DEFAULT_STATUSES, **(case.statuses or {})}[status]
    retry_after = 3.0 if status == 429 else None
    upstream.script(case.wire.error(status, f"scripted {status}", retry_after=retry_after))
    with pytest.raises(SwitchyardError) as caught:
        await provider.chat(ask(case))
    assert isinstance(caught.value, expected), f"{status} gave {type(caught.value).__name__}"
    assert caught.value.provider == provider.name
    if status == 429:
        assert caught.value.retry_after == 3.0


async def test_error_before_the_first_chunk_is_raised_before_any_chunk(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "stream")
    upstream.script(case.wire.error(503, "overloaded"))
    stream = provider.stream(ask(case))
    with pytest.raises(ProviderUnavailable):
        await anext(stream)


async def test_malformed_json_is_an_upstream_protocol_error(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    upstream.script(Reply.raw_bytes(b'{"id": "x", "choices": [ {oops'))
    with pytest.raises(UpstreamProtocolError):
        await provider.chat(ask(case))


async def test_stream_cut_mid_way(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "stream")
    upstream.script(case.wire.stream_cut(["one", " two", " three", " four"], cut_after=3))
    received: list[str] = []
    with pytest.raises(ProviderUnavailable):
        async for chunk in provider.stream(ask(case)):
            received.append(chunk.text or "")
    assert "".join(received).startswith("one")
    assert "three four" not in "".join(received)


async def test_slow_upstream_is_cancelled_by_the_timeout(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    slow = case.wire.text("late", WireUsage())
    slow.delay = 5.0
    upstream.script(slow)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await provider.chat(ask(case))
    await upstream.wait_for(lambda: bool(upstream.requests) and upstream.requests[0].disconnected)


async def test_embeddings(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "embeddings")
    vectors = [[0.25, -0.5, 0.125], [0.0, 1.0, -1.0]]
    upstream.script(case.wire.embeddings(vectors))
    model = case.embedding_model or case.model
    response = await provider.embed(EmbeddingRequest(model=model, input=["a", "b"]))
    assert response.data == vectors


async def test_list_models(
    case: ProviderCase, upstream: FakeUpstream, provider: Provider[Any]
) -> None:
    need(case, "list_models")
    upstream.script(case.wire.models(["model-a", "model-b"]))
    assert {"model-a", "model-b"} <= set(await provider.list_models())
