"""The model-like fake's decisions and its reading of each wire format, on the tools and tool
results the pinned agents really sent (captured into tests/agents/payloads from runs through
the gateway: Claude Code over Anthropic, Codex over Responses, gemini-cli over Gemini)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.agents.model_upstreams import anthropic_seen, chat_seen, gemini_seen, responses_seen
from tests.agents.scripted_model import (
    PLAIN_ANSWER,
    Call,
    Script,
    Seen,
    Tool,
    read_answer,
    read_call,
)

PAYLOADS = Path(__file__).with_name("payloads")
SECRET = "sy-secret-5f1e2d3c4b5a"  # what the captured tool results carry
NOTES = "/work/project/notes.txt"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def test_claude_code_is_asked_to_use_its_read_tool_with_an_absolute_file_path() -> None:
    seen = anthropic_seen({"tools": payload("claude_code_tools.json"), "messages": []})
    # Bash is offered too: the reading tool wins, as it needs no shell
    assert [tool.name for tool in seen.tools] == ["Bash", "Read", "DeferredToolPlaceholder"]
    assert read_call(seen.tools, NOTES) == Call("Read", {"file_path": NOTES})


def test_codex_is_asked_to_cat_the_file_through_exec_command_whose_cmd_is_a_string() -> None:
    seen = responses_seen({"tools": payload("codex_tools.json"), "input": "hi"})
    assert read_call(seen.tools, NOTES) == Call("exec_command", {"cmd": f"cat {NOTES}"})


def test_a_shell_whose_command_is_an_argument_list_gets_one() -> None:
    schema = {"type": "object", "properties": {"command": {"type": "array"}}}
    call = read_call([Tool("shell", schema)], "/tmp/my notes.txt")
    assert call == Call("shell", {"command": ["cat", "/tmp/my notes.txt"]})
    string_schema = {"type": "object", "properties": {"command": {"type": "string"}}}
    quoted = read_call([Tool("shell_command", string_schema)], "/tmp/my notes.txt")
    assert quoted == Call("shell_command", {"command": "cat '/tmp/my notes.txt'"})


def test_gemini_cli_is_asked_to_use_read_file_from_its_json_schema_parameters() -> None:
    seen = gemini_seen({"tools": payload("gemini_cli_tools.json"), "contents": []})
    assert read_call(seen.tools, NOTES) == Call("read_file", {"file_path": NOTES})


def test_no_reading_tool_on_offer_means_no_call_and_a_plain_answer() -> None:
    tools = [Tool("view_image", {"properties": {"path": {"type": "string"}}}), Tool("x", {})]
    assert read_call([tools[1]], NOTES) is None
    # view_image has a path, but is not a tool that reads a text file
    assert read_call(tools, NOTES) is None
    answer = Script("tool", NOTES, SECRET).answer(Seen(tools=tools))
    assert answer.text == PLAIN_ANSWER and answer.call is None


def test_the_plain_script_never_calls_a_tool() -> None:
    seen = anthropic_seen({"tools": payload("claude_code_tools.json"), "messages": []})
    assert Script("plain").answer(seen).text == PLAIN_ANSWER


def _answers_with_the_secret(seen: Seen) -> None:
    assert any(SECRET in result for result in seen.tool_results)
    answer = Script("tool", NOTES, SECRET).answer(seen)
    assert answer.call is None and answer.text == read_answer(SECRET)


def test_the_tool_result_is_found_in_each_format_and_the_answer_quotes_it() -> None:
    claude = payload("claude_code_tool_result_messages.json")
    _answers_with_the_secret(anthropic_seen({"messages": claude}))
    codex = payload("codex_tool_result_items.json")
    _answers_with_the_secret(responses_seen({"input": codex}))
    gemini_cli = payload("gemini_cli_tool_result_contents.json")
    _answers_with_the_secret(gemini_seen({"contents": gemini_cli}))
    chat = [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": SECRET}]},
    ]
    _answers_with_the_secret(chat_seen({"messages": chat}))


def test_a_tool_result_without_the_secret_does_not_end_the_round_trip() -> None:
    seen = anthropic_seen(
        {
            "tools": payload("claude_code_tools.json"),
            "messages": [{"role": "user", "content": [{"type": "tool_result", "content": "no"}]}],
        }
    )
    assert Script("tool", NOTES, SECRET).answer(seen).call == Call("Read", {"file_path": NOTES})
