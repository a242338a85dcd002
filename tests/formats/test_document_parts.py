"""Documents through the doors and the chat-completions render, as pure functions: the
Anthropic door's ``document`` blocks (Anthropic's PDF-support and citations guides: base64,
url and text sources, ``title``, ``context``, ``citations``, ``cache_control``; in a user turn
and in a ``tool_result``, as Claude Code sends a PDF its Read tool read), OpenAI's ``file``
part (its file-inputs guide), Gemini's ``inlineData`` / ``fileData`` of a PDF (as gemini-cli
sends a file its tool read), and the ``file`` part the ``openai`` adapter sends upstream
(checked against OpenAI's OpenAPI description)."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.doors.anthropic.request import request_from_anthropic
from switchyard.doors.gemini.request import request_from_gemini
from switchyard.errors import InvalidRequest
from switchyard.formats.openai_chat import request_from_openai, request_to_openai
from switchyard.types import (
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
)
from tests.fakes.documents import (
    NOTES,
    NOTES_DATA_URL,
    PDF_BASE64,
    PDF_DATA_URL,
    PDF_URL,
)
from tests.fakes.openapi_schema import assert_valid

EPHEMERAL = {"type": "ephemeral"}
PDF_SOURCE = {"type": "base64", "media_type": "application/pdf", "data": PDF_BASE64}
READ_ID = "toolu_01D7FLrfh4GYq7yT1ULFeyMV"
# Claude Code after its Read tool read a PDF (the result is the document), then the user
# attaching another with a question about both
CLAUDE_CODE_PDF: Any = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [
        {"role": "user", "content": "Summarize q3.pdf"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": READ_ID,
                    "name": "Read",
                    "input": {"file_path": "/home/ann/q3.pdf"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": READ_ID,
                    "content": [{"type": "document", "source": PDF_SOURCE}],
                },
                {
                    "type": "document",
                    "source": PDF_SOURCE,
                    "title": "Q2 report",
                    "context": "last quarter, for comparison",
                    "citations": {"enabled": True},
                    "cache_control": EPHEMERAL,
                },
                {"type": "text", "text": "Compare the two."},
            ],
        },
    ],
}


def anthropic_user(*blocks: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": list(blocks)}],
    }


# -- the Anthropic door -----------------------------------------------------------------------


def test_anthropic_documents_in_a_tool_result_and_a_user_turn() -> None:
    chat = request_from_anthropic(CLAUDE_CODE_PDF)
    _, assistant, result, user = chat.messages
    assert assistant.tool_calls == [
        ToolCall(id=READ_ID, name="Read", arguments='{"file_path":"/home/ann/q3.pdf"}')
    ]
    assert result == Message(
        role="tool",
        tool_call_id=READ_ID,
        content=[FilePart(url=PDF_DATA_URL, mime_type="application/pdf")],
    )
    assert user.content == [
        FilePart(
            url=PDF_DATA_URL,
            mime_type="application/pdf",
            filename="Q2 report",
            context="last quarter, for comparison",
            citations={"enabled": True},
            cache_control=EPHEMERAL,
        ),
        TextPart(text="Compare the two."),
    ]


def test_anthropic_url_and_text_sources() -> None:
    chat = request_from_anthropic(
        anthropic_user(
            {"type": "document", "source": {"type": "url", "url": PDF_URL}},
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": NOTES},
                "title": "notes.txt",
            },
        )
    )
    assert chat.messages[0].content == [
        FilePart(url=PDF_URL, mime_type="application/pdf"),
        FilePart(url=NOTES_DATA_URL, mime_type="text/plain", filename="notes.txt"),
    ]
    text = chat.messages[0].content[1]
    assert isinstance(text, FilePart) and text.plain_text() == NOTES


@pytest.mark.parametrize(
    ("block", "param"),
    [
        (
            {"type": "document", "source": {"type": "file", "file_id": "file_011CNha8iCJcU1"}},
            "messages[0].content[0].source.type",
        ),
        (
            {"type": "document", "source": {"type": "content", "content": "x"}},
            "messages[0].content[0].source.type",
        ),
        (
            {"type": "document", "source": {**PDF_SOURCE, "media_type": "image/png"}},
            "messages[0].content[0].source.media_type",
        ),
        (
            {"type": "document", "source": {"type": "url", "url": "ftp://x/y.pdf"}},
            "messages[0].content[0].source.url",
        ),
        (
            {"type": "document", "source": {"type": "text", "media_type": "text/plain"}},
            "messages[0].content[0].source.data",
        ),
        ({"type": "document", "source": PDF_SOURCE, "title": 7}, "messages[0].content[0].title"),
        (
            {"type": "document", "source": PDF_SOURCE, "citations": True},
            "messages[0].content[0].citations",
        ),
    ],
)
def test_anthropic_bad_documents_name_the_field(block: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_from_anthropic(anthropic_user(block))
    assert caught.value.param == param


def test_anthropic_document_in_an_assistant_turn_is_refused() -> None:
    body = anthropic_user({"type": "text", "text": "hi"})
    body["messages"].append(
        {"role": "assistant", "content": [{"type": "document", "source": PDF_SOURCE}]}
    )
    with pytest.raises(InvalidRequest) as caught:
        request_from_anthropic(body)
    assert caught.value.param == "messages[1].content[0].type"


# -- the OpenAI door --------------------------------------------------------------------------

OPENAI_FILE: Any = {
    "model": "gpt-4.1",
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "file", "file": {"filename": "q3.pdf", "file_data": PDF_DATA_URL}},
                {"type": "text", "text": "What is the first dragon in the book?"},
            ],
        }
    ],
}


def test_openai_file_part() -> None:
    chat = request_from_openai(OPENAI_FILE)
    assert chat.messages[0].content == [
        FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf"),
        TextPart(text="What is the first dragon in the book?"),
    ]


def test_openai_file_outside_a_user_message_is_refused() -> None:
    body = {**OPENAI_FILE, "messages": [{**OPENAI_FILE["messages"][0], "role": "system"}]}
    with pytest.raises(InvalidRequest) as caught:
        request_from_openai(body)
    assert caught.value.param == "messages[0].content[0].type"


# -- the Gemini door --------------------------------------------------------------------------


def test_gemini_inline_pdf_and_file_data_are_documents() -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"mime_type": "application/pdf", "data": PDF_BASE64}},
                    {"fileData": {"mimeType": "application/pdf", "fileUri": PDF_URL}},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                    {"text": "Summarize this document"},
                ],
            }
        ]
    }
    chat = request_from_gemini(body, "gem", stream=False)
    assert chat.messages[0].content == [
        FilePart(url=PDF_DATA_URL, mime_type="application/pdf"),
        FilePart(url=PDF_URL, mime_type="application/pdf"),
        ImagePart(url="data:image/png;base64,iVBORw0KGgo="),
        TextPart(text="Summarize this document"),
    ]


def test_gemini_url_safe_base64_becomes_standard() -> None:
    # google-genai sends bytes in the URL-safe alphabet, unpadded; Google's JSON takes both
    url_safe = PDF_BASE64.replace("+", "-").replace("/", "_").rstrip("=")
    assert url_safe != PDF_BASE64
    body = {
        "contents": [{"parts": [{"inlineData": {"mimeType": "application/pdf", "data": url_safe}}]}]
    }
    chat = request_from_gemini(body, "gem", stream=False)
    assert chat.messages[0].content == [FilePart(url=PDF_DATA_URL, mime_type="application/pdf")]


def test_gemini_cli_pdf_after_a_function_response() -> None:
    call = {"name": "read_file", "args": {"absolute_path": "/home/ann/q3.pdf"}}
    output = {"output": "Binary content of type application/pdf was processed."}
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Summarize q3.pdf"}]},
            {"role": "model", "parts": [{"functionCall": call}]},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "read_file", "response": output}},
                    {"inlineData": {"mimeType": "application/pdf", "data": PDF_BASE64}},
                ],
            },
        ]
    }
    chat = request_from_gemini(body, "gem", stream=False)
    _, _, result, document = chat.messages
    assert result.role == "tool" and result.content == output["output"]
    assert document == Message(
        role="user", content=[FilePart(url=PDF_DATA_URL, mime_type="application/pdf")]
    )


# -- the chat-completions render --------------------------------------------------------------


def render(*messages: Message) -> dict[str, Any]:
    body = request_to_openai(ChatRequest(model="gpt-4.1", messages=list(messages)))
    assert_valid("CreateChatCompletionRequest", body)
    return body


def test_a_pdf_goes_up_as_a_file_part_and_plain_text_as_text() -> None:
    body = render(
        Message(
            role="user",
            content=[
                FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf"),
                FilePart(url=PDF_DATA_URL, mime_type="application/pdf"),
                FilePart(url=NOTES_DATA_URL, mime_type="text/plain", filename="notes.txt"),
                TextPart(text="Compare them."),
            ],
        )
    )
    assert body["messages"][0]["content"] == [
        {"type": "file", "file": {"filename": "q3.pdf", "file_data": PDF_DATA_URL}},
        {"type": "file", "file": {"filename": "document.pdf", "file_data": PDF_DATA_URL}},
        {"type": "text", "text": NOTES},
        {"type": "text", "text": "Compare them."},
    ]


def test_a_tool_results_documents_follow_the_tool_messages_as_a_user_message() -> None:
    calls = [ToolCall(id="c1", name="Read", arguments="{}"), ToolCall(id="c2", name="Ls")]
    pdf = FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf")
    body = render(
        Message(role="user", content="Read q3.pdf"),
        Message(role="assistant", tool_calls=calls),
        Message(role="tool", tool_call_id="c1", content=[pdf]),
        Message(role="tool", tool_call_id="c2", content=[TextPart(text="q3.pdf"), pdf]),
        Message(role="user", content="Summarize it."),
    )
    file = {"type": "file", "file": {"filename": "q3.pdf", "file_data": PDF_DATA_URL}}
    assert body["messages"][2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": ""},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "q3.pdf"}]},
        {"role": "user", "content": [file, file]},
        {"role": "user", "content": "Summarize it."},
    ]


def test_a_document_by_url_is_refused_naming_the_part() -> None:
    message = Message(role="user", content=[FilePart(url=PDF_URL, mime_type="application/pdf")])
    with pytest.raises(InvalidRequest) as caught:
        request_to_openai(ChatRequest(model="gpt-4.1", messages=[message]))
    assert caught.value.param == "messages[0].content[0]"
