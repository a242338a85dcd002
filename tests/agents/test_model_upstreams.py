"""The model-like fakes speak their wire formats well enough for the gateway's own adapters:
each one's tool call and final answer, plain and streamed, read by the provider that talks to
that API (the Responses fake is read by Codex itself, through the Responses door, in
test_agents)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from switchyard.providers.anthropic.adapter import AnthropicProvider
from switchyard.providers.anthropic.settings import AnthropicSettings
from switchyard.providers.base import Provider
from switchyard.providers.gemini.adapter import GeminiProvider
from switchyard.providers.gemini.settings import GeminiSettings
from switchyard.providers.openai.adapter import OpenAIProvider
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.types import ChatRequest, Message, Tool, ToolCall
from tests.agents.model_upstreams import (
    AnthropicModel,
    ChatCompletionsModel,
    GeminiModel,
    ModelUpstream,
)
from tests.agents.scripted_model import Script, read_answer

NOTES = "/work/project/notes.txt"
SECRET = "sy-secret-9a8b7c6d5e4f"
READ = Tool(
    name="Read",
    parameters={
        "type": "object",
        "properties": {"file_path": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["file_path"],
    },
)
Adapter = Callable[[str], Provider[Any]]
FORMATS: list[tuple[type[ModelUpstream], Adapter, str]] = [
    (
        AnthropicModel,
        lambda url: AnthropicProvider("a", AnthropicSettings(base_url=url, api_key="k")),
        "claude-sonnet-4-5",
    ),
    (
        ChatCompletionsModel,
        lambda url: OpenAIProvider("o", OpenAISettings(base_url=url, api_key="k")),
        "gpt-4.1",
    ),
    (
        GeminiModel,
        lambda url: GeminiProvider("g", GeminiSettings(base_url=url, api_key="k")),
        "gemini-2.5-flash",
    ),
]


@pytest.fixture(params=FORMATS, ids=["anthropic", "chat", "gemini"])
async def served(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Provider[Any], str]]:
    model_class, adapter, model = request.param
    with model_class(Script("tool", NOTES, SECRET)) as upstream:
        provider = adapter(upstream.base_url)
        yield provider, model
        await provider.aclose()


def _asking(model: str) -> ChatRequest:
    question = Message(role="user", content="What does notes.txt say?")
    return ChatRequest(model=model, messages=[question], tools=[READ], max_tokens=100)


def _answered(model: str) -> ChatRequest:
    call = ToolCall(id="call_1", name="Read", arguments=json.dumps({"file_path": NOTES}))
    turns = [
        *_asking(model).messages,
        Message(role="assistant", tool_calls=[call]),
        Message(role="tool", tool_call_id="call_1", name="Read", content=f"1\t{SECRET}\n"),
    ]
    return ChatRequest(model=model, messages=turns, tools=[READ], max_tokens=100)


async def test_the_first_answer_calls_the_reading_tool(
    served: tuple[Provider[Any], str],
) -> None:
    provider, model = served
    reply = await provider.chat(_asking(model))
    (call,) = reply.message.tool_calls or []
    assert call.name == "Read" and json.loads(call.arguments) == {"file_path": NOTES}
    assert reply.choices[0].finish_reason == "tool_calls"
    chunks = [chunk async for chunk in provider.stream(_asking(model))]
    pieces = [delta for chunk in chunks for delta in chunk.tool_calls or []]
    assert [piece.name for piece in pieces if piece.name] == ["Read"]
    assert json.loads("".join(piece.arguments or "" for piece in pieces)) == {"file_path": NOTES}
    assert [chunk.finish_reason for chunk in chunks if chunk.finish_reason] == ["tool_calls"]


async def test_after_the_tool_result_the_answer_quotes_the_file(
    served: tuple[Provider[Any], str],
) -> None:
    provider, model = served
    reply = await provider.chat(_answered(model))
    assert reply.text == read_answer(SECRET) and not reply.message.tool_calls
    chunks = [chunk async for chunk in provider.stream(_answered(model))]
    assert "".join(chunk.text or "" for chunk in chunks) == read_answer(SECRET)
    assert [chunk.finish_reason for chunk in chunks if chunk.finish_reason] == ["stop"]
