"""A Responses API body -> the canonical request (pure), with the payloads Codex CLI and the
``openai`` SDK send."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.doors.responses.request import hosted_tool_names, request_from_responses
from switchyard.errors import InvalidRequest
from switchyard.types import FilePart, ImagePart, NamedToolChoice, TextPart, ThinkingBlock
from tests.fakes.documents import PDF_DATA_URL, PDF_URL

# What Codex CLI sends on its second turn (its request shape, trimmed): developer
# instructions, the user turn, its reasoning item, the function call echoed with id and
# status, the call's output; function and hosted tools; reasoning, include, store false.
CODEX: dict[str, Any] = {
    "model": "smart",
    "instructions": "You are Codex, based on GPT-5.",
    "input": [
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "<permissions instructions>"}],
        },
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Read README.md"},
                {
                    "type": "input_image",
                    "image_url": "data:image/png;base64,iVBORw0KGgo=",
                    "detail": "low",
                },
            ],
        },
        {
            "type": "reasoning",
            "id": "rs_68b0",
            "summary": [{"type": "summary_text", "text": "Need to read the file."}],
            "encrypted_content": "gAAAAABo-openai-own",
        },
        {
            "type": "function_call",
            "id": "fc_68b0",
            "status": "completed",
            "call_id": "call_Xn1",
            "name": "shell",
            "arguments": '{"command":["cat","README.md"]}',
        },
        {"type": "function_call_output", "call_id": "call_Xn1", "output": "# Project"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "It is a project."}],
        },
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search"},
        },
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Thanks"}]},
    ],
    "tools": [
        {
            "type": "function",
            "name": "shell",
            "description": "Runs a shell command",
            "strict": False,
            "parameters": {"type": "object", "properties": {"command": {"type": "array"}}},
        },
        {"type": "web_search"},
        {"type": "custom", "name": "apply_patch", "format": {"type": "grammar"}},
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "reasoning": {"effort": "medium", "summary": "auto"},
    "store": False,
    "stream": True,
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "019a-session",
    "text": {"verbosity": "low"},
    "client_metadata": {"x": "y"},
}


def test_codex_turn_to_canonical() -> None:
    chat = request_from_responses(CODEX)
    roles = [m.role for m in chat.messages]
    assert roles == ["system", "developer", "user", "assistant", "tool", "assistant", "user"]
    system, developer, user, called, result, answer, last = chat.messages
    assert system.content == "You are Codex, based on GPT-5."
    assert developer.content == "<permissions instructions>"
    assert user.content == [
        TextPart(text="Read README.md"),
        ImagePart(url="data:image/png;base64,iVBORw0KGgo=", detail="low"),
    ]
    # the OpenAI upstream's own reasoning is not for other upstreams
    assert called.thinking is None and called.content is None
    assert called.tool_calls is not None
    assert [(c.id, c.name, c.arguments) for c in called.tool_calls] == [
        ("call_Xn1", "shell", '{"command":["cat","README.md"]}')
    ]
    assert (result.tool_call_id, result.content) == ("call_Xn1", "# Project")
    assert answer.content == "It is a project." and last.content == "Thanks"
    assert chat.tools is not None and [t.name for t in chat.tools] == ["shell"]
    assert chat.tools[0].strict is False
    assert chat.tool_choice == "auto" and chat.parallel_tool_calls is False
    assert chat.reasoning is not None and chat.reasoning.effort == "medium"
    assert chat.stream is True
    # everything but model and stream, for a Responses upstream
    assert chat.format_fields is not None and chat.format_fields.format == "openai_responses"
    assert chat.format_fields.fields == {
        k: v for k, v in CODEX.items() if k not in ("model", "stream")
    }
    assert hosted_tool_names(CODEX) == ["web_search", "apply_patch"]


def test_thinking_the_gateway_sealed_comes_back_as_it_was() -> None:
    body = {
        "model": "m",
        "input": [
            {"role": "user", "content": "q"},
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Let me think."}],
                "encrypted_content": "sy.thinking.EqQBCgIYAhIM",
            },
            {"type": "reasoning", "summary": [], "encrypted_content": "sy.redacted.EmwKAhgB"},
            {"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "toolu_1", "output": "ok"},
        ],
    }
    chat = request_from_responses(body)
    assistant = chat.messages[1]
    assert assistant.thinking == [
        ThinkingBlock(thinking="Let me think.", signature="EqQBCgIYAhIM"),
        ThinkingBlock(type="redacted_thinking", data="EmwKAhgB"),
    ]
    assert assistant.tool_calls is not None and assistant.tool_calls[0].id == "toolu_1"


def test_options() -> None:
    chat = request_from_responses(
        {
            "model": "m",
            "input": "hi",
            "max_output_tokens": 300,
            "temperature": 1,
            "top_p": 0.5,
            "metadata": {"k": "v"},
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
            "tool_choice": {"type": "function", "name": "f"},
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "answer",
                    "schema": {"type": "object"},
                    "strict": True,
                }
            },
        }
    )
    assert chat.messages[0].content == "hi"
    assert chat.max_tokens == 300 and chat.temperature == 1.0 and chat.top_p == 0.5
    assert chat.metadata == {"k": "v"}
    assert chat.tool_choice == NamedToolChoice(name="f")
    assert chat.response_format is not None and chat.response_format.json_schema is not None
    assert chat.response_format.json_schema.name == "answer"
    assert chat.response_format.json_schema.schema_ == {"type": "object"}


def user_file(**part: Any) -> dict[str, Any]:
    content = [{"type": "input_file", **part}, {"type": "input_text", "text": "Summarize."}]
    return {"model": "m", "input": [{"role": "user", "content": content}]}


def test_input_files_by_data_and_by_url() -> None:
    # the file-inputs guide's two forms; a URL's type comes from its filename or its path
    by_data = request_from_responses(user_file(filename="q3.pdf", file_data=PDF_DATA_URL))
    by_url = request_from_responses(user_file(file_url=PDF_URL))
    notes = request_from_responses(user_file(file_url="https://x.test/n", filename="n.txt"))
    summarize = TextPart(text="Summarize.")
    pdf = FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf")
    assert by_data.messages[0].content == [pdf, summarize]
    assert by_url.messages[0].content == [
        FilePart(url=PDF_URL, mime_type="application/pdf"),
        summarize,
    ]
    assert notes.messages[0].content == [
        FilePart(url="https://x.test/n", mime_type="text/plain", filename="n.txt"),
        summarize,
    ]


def test_a_function_call_output_may_carry_a_file() -> None:
    output = [{"type": "input_file", "filename": "q3.pdf", "file_data": PDF_DATA_URL}]
    body = {**CODEX, "input": [*CODEX["input"][:4], {**CODEX["input"][4], "output": output}]}
    tool = request_from_responses(body).messages[-1]
    assert tool.role == "tool" and tool.content == [
        FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf")
    ]


@pytest.mark.parametrize(
    ("part", "param"),
    [
        ({"file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"}, "input[0].content[0].file_id"),
        ({"file_data": "JVBERi0xLjQ="}, "input[0].content[0].file_data"),
        ({"filename": "q3.pdf"}, "input[0].content[0].file_url"),
        ({"file_url": PDF_URL, "filename": 3}, "input[0].content[0].filename"),
    ],
)
def test_bad_input_files_name_the_field(part: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_from_responses(user_file(**part))
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "hi"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": 3}, "input"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "input_audio"}]}]},
            "input[0].content[0].type",
        ),
        ({"model": "m", "input": [{"type": "function_call", "name": "f"}]}, "input[0].arguments"),
        ({"model": "m", "input": "x", "reasoning": {"effort": "max"}}, "reasoning.effort"),
        ({"model": "m", "input": "x", "max_output_tokens": "9"}, "max_output_tokens"),
        ({"model": "m", "input": "x", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
    ],
)
def test_invalid_fields_are_named(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_from_responses(body)
    assert caught.value.param == param
