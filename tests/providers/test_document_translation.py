"""Documents in the adapters' pure translation: canonical ``FilePart`` -> Anthropic's
``document`` block (its PDF-support guide: base64, url and text sources, ``title``,
``context``, ``citations``, ``cache_control``; in a ``tool_result`` too), Gemini's
``inlineData`` (its document-processing guide; after a ``functionResponse`` for a tool's
result, as gemini-cli sends one) and the Responses API's ``input_file`` (``file_data`` with a
``filename``, ``file_url``; in a ``function_call_output`` too). What no upstream takes is
refused naming the part."""

from __future__ import annotations

import pytest

from switchyard.errors import InvalidRequest
from switchyard.providers.anthropic.translate import request_to_anthropic
from switchyard.providers.gemini.translate import chat_body
from switchyard.providers.openai.responses import request_to_responses
from switchyard.types import ChatRequest, FilePart, Message, TextPart, ToolCall
from tests.fakes.documents import NOTES, NOTES_DATA_URL, PDF_BASE64, PDF_DATA_URL, PDF_URL

EPHEMERAL = {"type": "ephemeral"}
PDF = FilePart(url=PDF_DATA_URL, mime_type="application/pdf")
READ = ToolCall(id="toolu_01", name="Read", arguments='{"file_path": "/home/ann/q3.pdf"}')


def request(*messages: Message) -> ChatRequest:
    return ChatRequest(model="m", messages=list(messages))


def a_read_pdf() -> list[Message]:
    """A tool that read a PDF, then the user's question about it."""
    return [
        Message(role="user", content="Summarize q3.pdf"),
        Message(role="assistant", tool_calls=[READ]),
        Message(role="tool", tool_call_id=READ.id, content=[PDF]),
        Message(role="user", content=[TextPart(text="Briefly.")]),
    ]


# -- Anthropic --------------------------------------------------------------------------------


def test_anthropic_document_blocks() -> None:
    content = [
        FilePart(
            url=PDF_DATA_URL,
            mime_type="application/pdf",
            filename="Q3 report",
            context="the board's copy",
            citations={"enabled": True},
            cache_control=EPHEMERAL,
        ),
        FilePart(url=PDF_URL, mime_type="application/pdf"),
        FilePart(url=NOTES_DATA_URL, mime_type="text/plain", filename="notes.txt"),
        TextPart(text="Compare them."),
    ]
    body = request_to_anthropic(
        request(Message(role="user", content=content)), max_tokens=64, stream=False
    )
    assert body["messages"][0]["content"] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_BASE64},
            "title": "Q3 report",
            "context": "the board's copy",
            "citations": {"enabled": True},
            "cache_control": EPHEMERAL,
        },
        {"type": "document", "source": {"type": "url", "url": PDF_URL}},
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": NOTES},
            "title": "notes.txt",
        },
        {"type": "text", "text": "Compare them."},
    ]


def test_anthropic_document_in_a_tool_result() -> None:
    body = request_to_anthropic(request(*a_read_pdf()), max_tokens=64, stream=False)
    assert body["messages"][2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": READ.id,
                "content": [
                    {
                        "type": "document",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": PDF_BASE64,
                        },
                    }
                ],
            },
            {"type": "text", "text": "Briefly."},
        ],
    }


@pytest.mark.parametrize(
    "part",
    [
        FilePart(url="data:audio/mpeg;base64,SUQz", mime_type="audio/mpeg"),
        FilePart(url="https://example.com/notes.txt", mime_type="text/plain"),
        FilePart(url="data:text/plain;base64,not base64!", mime_type="text/plain"),
    ],
)
def test_anthropic_refuses_what_it_cannot_take_naming_the_part(part: FilePart) -> None:
    message = Message(role="user", content=[TextPart(text="hi"), part])
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(request(message), max_tokens=64, stream=False)
    assert caught.value.param == "messages[0].content[1]"


# -- Gemini -----------------------------------------------------------------------------------


def test_gemini_inline_data_in_user_parts_and_after_a_function_response() -> None:
    messages = a_read_pdf()
    messages[0] = Message(role="user", content=[TextPart(text="Compare with this."), PDF])
    body = chat_body(request(*messages))
    inline = {"inlineData": {"mimeType": "application/pdf", "data": PDF_BASE64}}
    assert body["contents"][0]["parts"] == [{"text": "Compare with this."}, inline]
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "Read", "response": {"output": ""}}},
            inline,
            {"text": "Briefly."},
        ],
    }


def test_gemini_takes_plain_text_inline_and_refuses_a_web_url() -> None:
    notes = FilePart(url=NOTES_DATA_URL, mime_type="text/plain")
    body = chat_body(request(Message(role="user", content=[notes])))
    assert body["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "text/plain", "data": NOTES_DATA_URL.split(",")[1]}}
    ]
    web = Message(role="user", content=[FilePart(url=PDF_URL, mime_type="application/pdf")])
    with pytest.raises(InvalidRequest) as caught:
        chat_body(request(web))
    assert caught.value.param == "messages[0].content[0]"


# -- OpenAI Responses -------------------------------------------------------------------------


def test_responses_input_file_by_data_and_by_url() -> None:
    content = [
        FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf"),
        FilePart(url=NOTES_DATA_URL, mime_type="text/plain"),
        FilePart(url=PDF_URL, mime_type="application/pdf"),
        TextPart(text="Compare them."),
    ]
    body = request_to_responses(request(Message(role="user", content=content)), stream=False)
    assert body["input"][0]["content"] == [
        {"type": "input_file", "filename": "q3.pdf", "file_data": PDF_DATA_URL},
        {"type": "input_file", "filename": "document.txt", "file_data": NOTES_DATA_URL},
        {"type": "input_file", "file_url": PDF_URL},
        {"type": "input_text", "text": "Compare them."},
    ]


def test_responses_function_call_output_carries_the_document() -> None:
    body = request_to_responses(request(*a_read_pdf()), stream=False)
    assert body["input"][2] == {
        "type": "function_call_output",
        "call_id": READ.id,
        "output": [{"type": "input_file", "filename": "document.pdf", "file_data": PDF_DATA_URL}],
    }
