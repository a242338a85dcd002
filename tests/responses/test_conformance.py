"""The Responses door's JSON against OpenAI's OpenAPI description
(``tests/conformance/openai-openapi.yaml``): the ``Response`` object of a plain answer, every
streamed event (``ResponseStreamEvent``), and the request bodies the conformance suite's own
example uses for the adapter (``CreateResponse``)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from switchyard.doors.responses.events import ResponseEvents
from switchyard.doors.responses.reply import response_to_responses
from switchyard.errors import ProviderUnavailable
from switchyard.providers.openai.responses import request_to_responses
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    Message,
    ThinkingBlock,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from tests.fakes.openapi_schema import assert_valid, spec

BODY: dict[str, Any] = {
    "input": "hi",
    "instructions": "Be brief.",
    "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": False}],
    "reasoning": {"effort": "low"},
}
USAGE = Usage(input_tokens=10, output_tokens=5, cached_input_tokens=2, reasoning_tokens=1)


@pytest.mark.parametrize("finish", ["stop", "length", "tool_calls"])
def test_a_plain_answer_is_a_response(finish: str) -> None:
    message = Message(
        role="assistant",
        content="Hello.",
        thinking=[ThinkingBlock(thinking="hm", signature="SIG")],
        tool_calls=[ToolCall(id="call_1", name="f", arguments="{}")]
        if finish == "tool_calls"
        else None,
    )
    response = ChatResponse(
        id="up",
        created=1741476777,
        model="gpt-x",
        choices=[Choice(message=message, finish_reason=finish)],  # type: ignore[arg-type]
        usage=USAGE,
    )
    assert_valid("Response", response_to_responses(response, "resp_1", 1741476777, BODY))


def event_schemas() -> dict[str, str]:
    """Each event ``type`` -> the name of its schema in the spec."""
    out: dict[str, str] = {}
    for name, schema in spec()["components"]["schemas"].items():
        kind = schema.get("properties", {}).get("type", {}) if isinstance(schema, dict) else {}
        if name.startswith("Response") and name.endswith("Event") and kind.get("enum"):
            out.setdefault(kind["enum"][0], name)
    return out


def assert_event(event: dict[str, Any]) -> None:
    assert_valid(event_schemas()[event["type"]], event)


def events(data: bytes) -> list[dict[str, Any]]:
    return [
        orjson.loads(block.split("\n", 1)[1].removeprefix("data: "))
        for block in data.decode().split("\n\n")
        if block
    ]


def test_every_streamed_event_is_a_response_stream_event() -> None:
    framing = ResponseEvents("resp_2", "smart", BODY)
    chunks = [
        ChatChunk(id="u", created=1, model="m", reasoning="Think."),
        ChatChunk(id="u", created=1, model="m", signature="SIG"),
        ChatChunk(id="u", created=1, model="m", text="Hi"),
        ChatChunk(
            id="u",
            created=1,
            model="m",
            tool_calls=[ToolCallDelta(index=0, id="call_1", name="f", arguments="{}")],
        ),
        ChatChunk(id="u", created=1, model="m", finish_reason="tool_calls", usage=USAGE),
    ]
    data = b"".join(framing.chunk(c) for c in chunks) + framing.end()
    got = events(data)
    for event in got:
        assert_event(event)
    failing = ResponseEvents("resp_3", "smart", BODY)
    data = failing.chunk(chunks[2]) + failing.error(ProviderUnavailable("broke"))
    for event in events(data):
        assert_event(event)


def test_the_adapters_body_is_a_create_response() -> None:
    chat = ChatRequest.model_validate(
        {
            "model": "gpt-5",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "call_1", "name": "f", "arguments": "{}"}],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            ],
            "tools": [{"name": "f", "parameters": {"type": "object"}}],
            "tool_choice": "auto",
            "max_tokens": 50,
            "reasoning": {"effort": "low"},
        }
    )
    assert_valid("CreateResponse", request_to_responses(chat, stream=True))
