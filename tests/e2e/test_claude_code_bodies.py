"""Claude Code's requests at the Anthropic door, as it sends them (``POST
/v1/messages?beta=true`` with its ``anthropic-beta`` list, a system prompt in blocks with
``cache_control``, a mid-conversation ``role: system`` turn, tools with ``defer_loading``, a
server tool, ``thinking: adaptive`` with ``display``, ``output_config.effort``,
``context_management``, a long ``metadata.user_id`` string), over an Anthropic upstream (all
of it goes up as it came, the beta header too) and over an OpenAI chat-completions upstream
(the custom tools, the merged system prompt; nothing Anthropic-only), streamed through the
``anthropic`` SDK and by hand with httpx; and its count_tokens body."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.e2e.served import ServedGateway, serve
from tests.fakes.anthropic_upstream import MODEL, AnthropicUpstream
from tests.fakes.fixtures import fresh
from tests.fakes.openai_upstream import OpenAIUpstream

BETAS = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,"
    "fine-grained-tool-streaming-2025-05-14,context-management-2025-06-27"
)
EPHEMERAL = {"type": "ephemeral"}
USER_ID = json.dumps(
    {
        "device_id": "3f" * 32,
        "account_uuid": "0b9c4a7e-5d2f-4c1a-9e8b-7a6d5c4b3a21",
        "session_id": "d2c1b0a9-8f7e-4d6c-b5a4-938271605f4e",
    }
)
# What Claude Code 2.x sends for a first turn, trimmed: the shape and the fields are its own.
CLAUDE_CODE: dict[str, Any] = {
    "model": "smart",
    "max_tokens": 32000,
    "stream": True,
    "system": [
        {
            "type": "text",
            "text": "x-anthropic-billing-header: cc_version=2.1.37; cc_entrypoint=cli;",
        },
        {
            "type": "text",
            "text": "You are Claude Code, Anthropic's official CLI for Claude.",
            "cache_control": EPHEMERAL,
        },
        {"type": "text", "text": "Use the tools to read files.", "cache_control": EPHEMERAL},
    ],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>CLAUDE.md says hi</system-reminder>"},
                {"type": "text", "text": "what is in notes.txt", "cache_control": EPHEMERAL},
            ],
        },
        {"role": "system", "content": "# Environment\nWorking directory: /work"},
    ],
    "tools": [
        {
            "name": "Read",
            "description": "Reads a file from the local filesystem.",
            "input_schema": {
                "type": "object",
                "properties": {"file_path": {"type": "string"}},
                "required": ["file_path"],
                "additionalProperties": False,
                "$schema": "http://json-schema.org/draft-07/schema#",
            },
        },
        {
            "name": "mcp__docs__search",
            "description": "Search the docs",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
            "defer_loading": True,
            "cache_control": EPHEMERAL,
        },
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ],
    "tool_choice": {"type": "auto"},
    "thinking": {"type": "adaptive", "display": "summarized"},
    "output_config": {"effort": "high"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "metadata": {"user_id": USER_ID},
    "temperature": 1,
}


# what the fakes answer: the last user turn's text, echoed
ECHO = "<system-reminder>CLAUDE.md says hi</system-reminder>what is in notes.txt"


@pytest.fixture(scope="module")
def _anthropic() -> Iterator[AnthropicUpstream]:
    with AnthropicUpstream().start() as server:
        yield server


@pytest.fixture(scope="module")
def _openai() -> Iterator[OpenAIUpstream]:
    with OpenAIUpstream().start() as server:
        yield server


@pytest.fixture(scope="module")
def served(_anthropic: AnthropicUpstream, _openai: OpenAIUpstream) -> Iterator[ServedGateway]:
    config = {
        "providers": {
            "claude": {"type": "anthropic", "base_url": _anthropic.base_url, "api_key": "sk-up"},
            "oai": {"type": "openai", "base_url": _openai.base_url, "api_key": "sk-up"},
        },
        "models": [
            {"name": "smart", "deployments": [{"provider": "claude", "model": MODEL}]},
            {"name": "fast", "deployments": [{"provider": "oai", "model": "gpt-4o-mini"}]},
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
def openai_up(_openai: OpenAIUpstream) -> Iterator[OpenAIUpstream]:
    with fresh(_openai) as upstream:
        yield upstream


def _post(
    served: ServedGateway, body: dict[str, Any], path: str = "/v1/messages"
) -> httpx.Response:
    return httpx.post(
        f"{served.url}{path}?beta=true",
        json=body,
        headers={
            "anthropic-version": "2023-06-01",
            "anthropic-beta": BETAS,
            "authorization": "Bearer sk-anything",  # ANTHROPIC_AUTH_TOKEN; no master key here
            "user-agent": "claude-cli/2.1.37 (external, cli)",
        },
        timeout=10,
    )


def _events(reply: httpx.Response) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("data: ") :])
        for line in reply.text.splitlines()
        if line.startswith("data: ")
    ]


def test_everything_reaches_an_anthropic_upstream_as_it_came(
    served: ServedGateway, claude: AnthropicUpstream
) -> None:
    reply = _post(served, CLAUDE_CODE)
    assert reply.status_code == 200, reply.text
    events = _events(reply)
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert text == ECHO

    sent = claude.requests[0]
    assert sent.headers["anthropic-beta"] == BETAS
    body = sent.json
    for key in ("thinking", "output_config", "context_management", "metadata", "tool_choice"):
        assert body[key] == CLAUDE_CODE[key], key
    assert body["tools"] == CLAUDE_CODE["tools"]  # defer_loading and the server tool included
    system = body["system"]
    assert system[:3] == CLAUDE_CODE["system"]
    assert system[3] == {"type": "text", "text": "# Environment\nWorking directory: /work"}
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["messages"][0]["content"][1]["cache_control"] == EPHEMERAL


def test_over_an_openai_upstream_only_what_it_reads_goes_up(
    served: ServedGateway, openai_up: OpenAIUpstream
) -> None:
    body = {**copy.deepcopy(CLAUDE_CODE), "model": "fast"}
    client = anthropic.Anthropic(base_url=served.url, api_key="sk-anything", max_retries=0)
    typed = ("model", "max_tokens", "messages", "system", "tools", "metadata")
    with client.beta.messages.stream(
        **{k: body[k] for k in typed},
        betas=BETAS.split(","),
        extra_body={k: v for k, v in body.items() if k not in (*typed, "stream")},
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "text"
    assert final.content[0].text == ECHO  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"

    sent = openai_up.requests[0]
    assert "anthropic-beta" not in sent.headers
    wire = sent.json
    assert [t["function"]["name"] for t in wire["tools"]] == ["Read", "mcp__docs__search"]
    assert wire["messages"][0]["role"] == "system"
    assert "Working directory: /work" in json.dumps(wire["messages"][0])
    assert [m["role"] for m in wire["messages"]] == ["system", "user"]
    for anthropic_only in ("thinking", "context_management", "output_config", "defer_loading"):
        assert anthropic_only not in json.dumps(wire), anthropic_only


def test_count_tokens_takes_claude_codes_body(served: ServedGateway) -> None:
    body = {k: v for k, v in CLAUDE_CODE.items() if k not in ("max_tokens", "stream")}
    reply = _post(served, body, "/v1/messages/count_tokens")
    assert reply.status_code == 200, reply.text
    assert reply.json()["input_tokens"] > 10


def test_the_small_fast_model_is_just_another_alias(
    served: ServedGateway, openai_up: OpenAIUpstream
) -> None:
    """ANTHROPIC_SMALL_FAST_MODEL=fast: Claude Code's title and summary requests, non-streamed,
    with a plain-string system prompt."""
    body = {
        "model": "fast",
        "max_tokens": 512,
        "system": [{"type": "text", "text": "Summarize this coding conversation in a title."}],
        "messages": [{"role": "user", "content": "fix the failing test"}],
        "metadata": {"user_id": USER_ID},
        "temperature": 0,
    }
    reply = _post(served, body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["content"] == [{"type": "text", "text": "fix the failing test"}]
    # longer than the 64 characters OpenAI takes: a stable digest of it instead
    assert openai_up.requests[0].json["user"] == hashlib.sha256(USER_ID.encode()).hexdigest()
