"""What the cross-format suites (``test_cross_format_<provider>.py``) share: the official
``openai`` SDK -> the served gateway -> one provider's adapter -> that provider's fake upstream
on 127.0.0.1. Each suite keeps its own gateway config and its provider's assertions; the
fixtures and the reading of an SDK stream are the same for all of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai
import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk

from tests.e2e.served import ServedGateway, serve
from tests.fakes.fixtures import fake_upstream_fixtures
from tests.fakes.upstream import FakeUpstream

U = TypeVar("U", bound=FakeUpstream)


def cross_format_fixtures(
    start: Callable[[], U], config: Callable[[U], Mapping[str, Any]]
) -> tuple[Any, Any, Any, Any]:
    """The four fixtures of a cross-format module, to assign to module names:

    ``_server, served, upstream, client = cross_format_fixtures(CohereUpstream, gateway_config)``

    ``_server`` is the fake upstream (``start()``) and ``served`` the gateway built from
    ``gateway_config(_server)``, both for the whole module; ``upstream`` is the fake, fresh for
    each test (the test fails if it leaves scripted replies unused, see
    :func:`tests.fakes.fixtures.fresh`); ``client`` is the OpenAI SDK pointed at the gateway.
    """
    server, upstream = fake_upstream_fixtures(start)

    @pytest.fixture(scope="module", name="served")
    def served(_server: U) -> Iterator[ServedGateway]:
        with serve(config(_server)) as gateway:
            yield gateway

    @pytest.fixture(name="client")
    def client(served: ServedGateway, upstream: U) -> openai.OpenAI:
        return served.client()

    return server, served, upstream, client


def function_tool(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A tool as the OpenAI SDK declares it."""
    function = {"name": name, "description": description, "parameters": parameters}
    return {"type": "function", "function": function}


def tool_call_turn(*calls: tuple[str, str, str], **fields: Any) -> dict[str, Any]:
    """An assistant turn of a client's history that called tools, ``(id, name, arguments)``
    each, as the OpenAI SDK sends it back; ``fields`` adds to the message."""
    return {
        "role": "assistant",
        "content": None,
        **fields,
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, name, arguments in calls
        ],
    }


@dataclass
class Streamed:
    """An SDK chat stream read to its end and put together as a client does."""

    ids: set[str] = field(default_factory=set)  # the chunks' ids
    text: str = ""
    reasoning: str = ""  # the deltas' ``reasoning_content``
    # by index: {"id", "name", "arguments"}; the arguments joined from their pieces
    calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finishes: list[str] = field(default_factory=list)  # every finish reason sent, in order
    usage: CompletionUsage | None = None  # the last one sent


def read_stream(stream: Iterable[ChatCompletionChunk]) -> Streamed:
    """Reassemble ``stream``. A tool call's id and its name must each come once, in one piece
    (as OpenAI sends them); its arguments may come in any number of pieces."""
    got = Streamed()
    for chunk in stream:
        got.ids.add(chunk.id)
        got.usage = chunk.usage or got.usage
        for choice in chunk.choices:
            delta = choice.delta
            got.text += delta.content or ""
            got.reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            for piece in delta.tool_calls or []:
                call = got.calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
                if piece.id:
                    assert not call["id"], f"tool call {piece.index}: a second id {piece.id!r}"
                    call["id"] = piece.id
                if piece.function is not None:
                    if piece.function.name:
                        name = piece.function.name
                        assert not call["name"], f"tool call {piece.index}: a second name {name!r}"
                        call["name"] = name
                    call["arguments"] += piece.function.arguments or ""
            if choice.finish_reason:
                got.finishes.append(choice.finish_reason)
    return got


__all__ = [
    "Streamed",
    "cross_format_fixtures",
    "function_tool",
    "read_stream",
    "tool_call_turn",
]
