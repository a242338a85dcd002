"""Documents end to end: the official ``anthropic`` and ``openai`` SDKs (and ``google-genai``)
-> the served gateway's doors -> the ``anthropic``, ``openai`` and ``gemini`` adapters -> their
fake upstreams on 127.0.0.1. Claude Code's PDF (a document block in a tool result, another in
a user turn) reaches Anthropic as document blocks, OpenAI's chat completions as ``file`` parts
(the tool result's after the tool message) and Gemini as ``inlineData``; an OpenAI ``file``
part and a Responses ``input_file`` reach Anthropic as a document (the stored input items give
the file back as sent); routing skips a deployment that takes no documents, or none by URL;
when none is left the caller gets a 400 naming the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.e2e.served import ServedGateway, serve
from tests.fakes.anthropic_upstream import AnthropicUpstream, Reply, message, text_block
from tests.fakes.documents import PDF, PDF_BASE64, PDF_DATA_URL, PDF_URL
from tests.fakes.fixtures import fresh
from tests.fakes.gemini_upstream import GeminiUpstream
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.openapi_schema import assert_valid

KEY = "sk-master-documents"
EPHEMERAL = {"type": "ephemeral"}
PDF_SOURCE = {"type": "base64", "media_type": "application/pdf", "data": PDF_BASE64}
DOCUMENT = {"type": "document", "source": PDF_SOURCE}
READ_ID = "toolu_01D7FLrfh4GYq7yT1ULFeyMV"
# Claude Code after its Read tool read q3.pdf (the tool result is the document), then the user
# attaching q2.pdf with a question about both
CLAUDE_CODE_TURNS: Any = [
    {"role": "user", "content": "Summarize q3.pdf"},
    {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": READ_ID, "name": "Read", "input": {"file_path": "q3.pdf"}}
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": READ_ID, "content": [DOCUMENT]},
            {**DOCUMENT, "title": "Q2 report", "cache_control": EPHEMERAL},
            {"type": "text", "text": "Compare the two."},
        ],
    },
]
READ_TOOL: Any = {
    "name": "Read",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def _anthropic() -> Iterator[AnthropicUpstream]:
    with AnthropicUpstream().start() as server:
        yield server


@pytest.fixture(scope="module")
def _openai() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream().start() as server:
        yield server


@pytest.fixture(scope="module")
def _gemini() -> Iterator[GeminiUpstream]:
    with GeminiUpstream().start() as server:
        yield server


@pytest.fixture(scope="module")
def served(
    _anthropic: AnthropicUpstream, _openai: OpenAIUpstream, _gemini: GeminiUpstream
) -> Iterator[ServedGateway]:
    claude = {"provider": "claude", "model": "claude-sonnet-4-5"}
    gpt = {"provider": "gpt", "model": "gpt-4.1"}
    deepseek = {"provider": "deepseek", "model": "deepseek-chat"}  # takes no documents
    config = {
        "server": {"master_key": KEY},
        "providers": {
            "claude": {"type": "anthropic", "base_url": _anthropic.base_url, "api_key": "sk-a"},
            "gpt": {"type": "openai", "base_url": _openai.base_url, "api_key": "sk-up"},
            "gem": {"type": "gemini", "base_url": _gemini.base_url, "api_key": "AIza-up"},
            "deepseek": {"type": "deepseek", "base_url": _openai.base_url, "api_key": "sk-d"},
        },
        "models": [
            {"name": "claude", "deployments": [claude]},
            {"name": "gpt", "deployments": [gpt]},
            {"name": "gem", "deployments": [{"provider": "gem", "model": "gemini-2.5-flash"}]},
            {"name": "any", "deployments": [deepseek, gpt, claude]},  # in this order
            {"name": "text-only", "deployments": [deepseek]},
        ],
        "router": {"retries": 0},
    }
    with serve(config) as gateway:
        yield gateway


@pytest.fixture()
def claude(_anthropic: AnthropicUpstream) -> Iterator[AnthropicUpstream]:
    with fresh(_anthropic) as upstream:
        yield upstream


@pytest.fixture()
def gpt(_openai: OpenAIUpstream) -> Iterator[OpenAIUpstream]:
    with fresh(_openai) as upstream:
        yield upstream


@pytest.fixture()
def gem(_gemini: GeminiUpstream) -> Iterator[GeminiUpstream]:
    with fresh(_gemini) as upstream:
        yield upstream


@pytest.fixture()
def anthropic_client(served: ServedGateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=served.url, api_key=KEY, max_retries=0)


@pytest.fixture()
def openai_client(served: ServedGateway) -> openai.OpenAI:
    return served.client(KEY)


def ask_claude_code(client: anthropic.Anthropic, model: str) -> str:
    reply = client.messages.create(
        model=model, max_tokens=256, tools=[READ_TOOL], messages=CLAUDE_CODE_TURNS
    )
    block = reply.content[0]
    assert block.type == "text"
    return block.text


# -- Claude Code's PDFs, to each upstream -------------------------------------------------------


def test_claude_code_pdfs_reach_anthropic_as_document_blocks(
    anthropic_client: anthropic.Anthropic, claude: AnthropicUpstream
) -> None:
    claude.script(Reply.json(message([text_block("Q3 beat Q2.")])))
    assert ask_claude_code(anthropic_client, "claude") == "Q3 beat Q2."
    sent = claude.requests[0].json["messages"][2]
    assert sent == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": READ_ID, "content": [DOCUMENT]},
            {**DOCUMENT, "title": "Q2 report", "cache_control": EPHEMERAL},
            {"type": "text", "text": "Compare the two."},
        ],
    }


def test_claude_code_pdfs_reach_openai_as_file_parts(
    anthropic_client: anthropic.Anthropic, gpt: OpenAIUpstream
) -> None:
    ask_claude_code(anthropic_client, "gpt")
    sent = gpt.requests[0].json
    assert_valid("CreateChatCompletionRequest", sent)
    read = {"type": "file", "file": {"filename": "document.pdf", "file_data": PDF_DATA_URL}}
    q2 = {"type": "file", "file": {"filename": "Q2 report.pdf", "file_data": PDF_DATA_URL}}
    assert sent["messages"][2:] == [
        {"role": "tool", "tool_call_id": READ_ID, "content": ""},
        {"role": "user", "content": [read]},
        {"role": "user", "content": [q2, {"type": "text", "text": "Compare the two."}]},
    ]


def test_claude_code_pdfs_reach_gemini_as_inline_data(
    anthropic_client: anthropic.Anthropic, gem: GeminiUpstream
) -> None:
    ask_claude_code(anthropic_client, "gem")
    inline = {"inlineData": {"mimeType": "application/pdf", "data": PDF_BASE64}}
    assert gem.requests[0].json["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "Read", "response": {"output": ""}}},
            inline,
            inline,
            {"text": "Compare the two."},
        ],
    }


# -- the other doors' documents, to Anthropic ---------------------------------------------------


def test_an_openai_file_part_reaches_anthropic(
    openai_client: openai.OpenAI, claude: AnthropicUpstream
) -> None:
    openai_client.chat.completions.create(
        model="claude",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "file", "file": {"filename": "q3.pdf", "file_data": PDF_DATA_URL}},
                    {"type": "text", "text": "What is in this report?"},
                ],
            }
        ],
    )
    assert claude.requests[0].json["messages"] == [
        {
            "role": "user",
            "content": [
                {**DOCUMENT, "title": "q3.pdf"},
                {"type": "text", "text": "What is in this report?"},
            ],
        }
    ]


def test_a_responses_input_file_reaches_anthropic_and_is_stored_as_sent(
    openai_client: openai.OpenAI, claude: AnthropicUpstream
) -> None:
    item: Any = {"type": "input_file", "filename": "q3.pdf", "file_data": PDF_DATA_URL}
    first = openai_client.responses.create(
        model="claude",
        input=[{"role": "user", "content": [item, {"type": "input_text", "text": "Summary?"}]}],
    )
    second = openai_client.responses.create(
        model="claude", input="And the outlook?", previous_response_id=first.id
    )
    for request in claude.requests:  # the follow-up carries the stored document again
        assert request.json["messages"][0]["content"][0] == {**DOCUMENT, "title": "q3.pdf"}
    items = openai_client.responses.input_items.list(second.id, order="asc").data
    stored = items[0].model_dump(exclude_none=True)
    assert stored["content"][0] == item


def test_a_gemini_inline_pdf_reaches_anthropic(
    served: ServedGateway, claude: AnthropicUpstream
) -> None:
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=served.url))
    client.models.generate_content(
        model="claude",
        contents=[
            types.Part.from_bytes(data=PDF, mime_type="application/pdf"),
            "Summarize this document",
        ],
    )
    assert claude.requests[0].json["messages"][0]["content"][0] == DOCUMENT


# -- routing ------------------------------------------------------------------------------------


def test_routing_skips_deployments_that_cannot_take_the_document(
    anthropic_client: anthropic.Anthropic, gpt: OpenAIUpstream, claude: AnthropicUpstream
) -> None:
    pdf: Any = [{"role": "user", "content": [DOCUMENT, {"type": "text", "text": "Summary?"}]}]
    anthropic_client.messages.create(model="any", max_tokens=64, messages=pdf)
    # deepseek (no documents) skipped: OpenAI's chat completions took it
    assert [r.json["model"] for r in gpt.requests] == ["gpt-4.1"]
    by_url: Any = [
        {
            "role": "user",
            "content": [{"type": "document", "source": {"type": "url", "url": PDF_URL}}],
        }
    ]
    anthropic_client.messages.create(model="any", max_tokens=64, messages=by_url)
    # chat completions takes no URL: Anthropic did
    assert len(gpt.requests) == 1
    assert claude.requests[0].json["messages"][0]["content"] == [
        {"type": "document", "source": {"type": "url", "url": PDF_URL}}
    ]


def test_a_400_names_the_document_when_no_deployment_can_take_it(
    anthropic_client: anthropic.Anthropic, openai_client: openai.OpenAI, gpt: OpenAIUpstream
) -> None:
    pdf: Any = [{"role": "user", "content": [DOCUMENT]}]
    with pytest.raises(anthropic.BadRequestError) as refused:
        anthropic_client.messages.create(model="text-only", max_tokens=64, messages=pdf)
    assert "deepseek/deepseek-chat does not accept documents (messages[0].content[0]" in str(
        refused.value
    )
    file: Any = {"type": "file", "file": {"file_data": PDF_DATA_URL}}
    with pytest.raises(openai.BadRequestError, match="does not accept documents"):
        openai_client.chat.completions.create(
            model="text-only", messages=[{"role": "user", "content": [file]}]
        )
    assert gpt.requests == []  # deepseek's base_url is this fake: it was never asked
