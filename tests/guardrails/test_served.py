"""Guardrails through the served gateway with the official ``openai`` SDK, against a fake
OpenAI upstream speaking its real wire format: a blocked input is the SDK's typed
BadRequestError with ``code`` content_policy_violation; a secret the upstream streams across
chunks reaches the client redacted; a blocked stream ends with an error event; a tenant's
guardrails (config and admin API) apply to its virtual keys; decisions reach the usage rows
and GET /metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from switchyard.tenancy.settings import KeySpec
from tests.e2e.served import ServedGateway, serve
from tests.e2e.test_virtual_keys import usage_rows
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply

MASTER = "sk-master-guardrails-0c1d2e3f4a5b6c7d"
CARD = "4111 1111 1111 1111"
BASE = {"id": "chatcmpl-g1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}


def config(upstream: OpenAIUpstream, storage_url: str) -> dict[str, Any]:
    return {
        "server": {"master_key": MASTER},
        "storage": {"url": storage_url, "flush_seconds": 0.05},
        "providers": {"up": {"type": "openai", "base_url": upstream.base_url, "api_key": "k"}},
        "models": [
            {
                "name": "guarded",
                "deployments": [{"provider": "up", "model": "gpt-4o"}],
                "guardrails": [
                    {"type": "blocklist", "name": "codename", "on": "input", "action": "block",
                     "words": ["project falcon"]},
                    {"type": "pii", "name": "cards", "on": "output", "action": "redact",
                     "detect": ["credit_card", "iban"]},
                    {"type": "regex", "name": "no-rm", "on": "output", "action": "block",
                     "pattern": "rm -rf /"},
                ],
            },
            {"name": "open", "deployments": [{"provider": "up", "model": "gpt-4o"}]},
        ],
        "tenants": [
            {"name": "acme", "guardrails": [
                {"type": "blocklist", "name": "acme-rivals", "on": "input", "action": "block",
                 "words": ["globex"]},
                {"type": "pii", "name": "acme-mail", "on": "output", "action": "warn",
                 "detect": ["email"]},
            ]},
        ],
    }  # fmt: skip


@pytest.fixture
def served(openai_upstream: OpenAIUpstream, sqlite_url: str) -> Iterator[ServedGateway]:
    with serve(config(openai_upstream, sqlite_url)) as s:
        yield s


def pieces(*texts: str) -> list[dict[str, Any]]:
    """OpenAI stream chunks: the role, each text as a delta, then the finish."""
    role = {**BASE, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    deltas = [
        {**BASE, "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}
        for t in texts
    ]
    finish = {**BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    return [role, *deltas, finish]


def answer(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-g2",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
    }  # fmt: skip


def ask(text: str) -> Any:
    return [{"role": "user", "content": text}]


def test_blocked_input_is_a_typed_bad_request_and_never_reaches_the_upstream(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    client = served.client(MASTER)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="guarded", messages=ask("Status of Project Falcon?"))
    assert refused.value.status_code == 400
    assert refused.value.code == "content_policy_violation"
    assert refused.value.type == "invalid_request_error"
    assert refused.value.param == "messages[0].content"
    assert "codename" in refused.value.message
    with pytest.raises(openai.BadRequestError) as streamed:
        client.chat.completions.create(model="guarded", messages=ask("project falcon"), stream=True)
    assert streamed.value.code == "content_policy_violation"
    assert openai_upstream.requests == []
    rows = usage_rows(served_url_storage(served), 2)
    assert [r["guardrails"] for r in rows] == [[["codename", "input", "block"]]] * 2
    assert {r["error_type"] for r in rows} == {"content_policy_violation"}


def served_url_storage(served: ServedGateway) -> str:
    storage = served.gateway.config.storage
    assert storage is not None
    return storage.url


def test_a_card_the_upstream_streams_over_three_chunks_reaches_the_client_redacted(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    streamed = pieces(
        "Your card is 4111 11", "11 1111 ", "1111, and IBAN DE89 3704 ", "0044 0532 0130 00. Done."
    )
    openai_upstream.script(Reply.stream(streamed), Reply.json(answer(f"Card {CARD} on file.")))
    client = served.client(MASTER)
    stream = client.chat.completions.create(model="guarded", messages=ask("card?"), stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Your card is [REDACTED:CREDIT_CARD], and IBAN [REDACTED:IBAN]. Done."
    plain = client.chat.completions.create(model="guarded", messages=ask("card?"))
    assert plain.choices[0].message.content == "Card [REDACTED:CREDIT_CARD] on file."
    rows = usage_rows(served_url_storage(served), 2)
    assert [r["guardrails"] for r in rows] == [[["cards", "output", "redact"]]] * 2
    assert {r["status"] for r in rows} == {"success"}


def test_a_stream_blocked_mid_way_ends_with_an_error_event(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    long = "Step one: back up everything you care about before going further. "
    openai_upstream.script(Reply.stream(pieces(long, "Step two: rm -", "rf / and reboot.")))
    received: list[str] = []
    with pytest.raises(openai.APIError, match="no-rm"):
        for chunk in served.client(MASTER).chat.completions.create(
            model="guarded", messages=ask("how?"), stream=True
        ):
            if chunk.choices:
                received.append(chunk.choices[0].delta.content or "")
    # relayed as it came, 65 characters behind (the longest an IBAN can be, and one), and
    # nothing of the match
    full = long + "Step two: rm -rf / and reboot."
    assert "".join(received) == full[: len(full) - 65]
    rows = usage_rows(served_url_storage(served), 1)
    assert rows[0]["error_type"] == "content_filter"
    assert rows[0]["guardrails"] == [["no-rm", "output", "block"]]


def test_a_tenants_guardrails_apply_to_its_virtual_keys(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    accounts = served.gateway.accounts
    assert accounts is not None
    _, secret = served.call(accounts.create_key(KeySpec(tenant="acme")))
    tenant_client, admin_client = served.client(secret), served.client(MASTER)
    with pytest.raises(openai.BadRequestError) as refused:
        tenant_client.chat.completions.create(model="open", messages=ask("What about Globex?"))
    assert refused.value.code == "content_policy_violation"
    assert "acme-rivals" in refused.value.message
    openai_upstream.script(
        Reply.json(answer("Globex? Write to sales@globex.example.")),
        Reply.json(answer(f"mail jane@example.com, card {CARD}")),
    )
    # the master key is no tenant's: acme's rules do not apply to it
    admin = admin_client.chat.completions.create(model="open", messages=ask("What about Globex?"))
    assert admin.choices[0].message.content == "Globex? Write to sales@globex.example."
    # acme's output rule (warn) after the alias's (redact)
    warned = tenant_client.chat.completions.create(model="guarded", messages=ask("contact?"))
    assert warned.choices[0].message.content == "mail jane@example.com, card [REDACTED:CREDIT_CARD]"
    rows = usage_rows(served_url_storage(served), 3)
    assert [r["guardrails"] for r in rows] == [
        [["acme-rivals", "input", "block"]],
        None,
        [["cards", "output", "redact"], ["acme-mail", "output", "warn"]],
    ]
    assert [r["tenant"] for r in rows] == ["acme", None, "acme"]


def test_admin_api_tenants_carry_guardrails_and_a_bad_one_names_its_field(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    auth = {"Authorization": f"Bearer {MASTER}"}
    tenants = f"{served.url}/api/v1/admin/tenants"
    unbounded = {"type": "regex", "on": "output", "action": "redact", "pattern": "TPS-[0-9]+"}
    bad = {"name": "initech", "guardrails": [unbounded]}
    refused = httpx.post(tenants, json=bad, headers=auth)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["param"].startswith("guardrails[0]") and "max_match" in error["message"]
    good = {"name": "initech", "guardrails": [
        {"type": "regex", "name": "tps", "on": "output", "action": "redact",
         "pattern": "TPS-[0-9]+", "max_match": 16, "replacement": "[TPS]"}]}  # fmt: skip
    created = httpx.post(tenants, json=good, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["guardrails"][0]["max_match"] == 16
    keys = httpx.post(f"{served.url}/api/v1/admin/keys", json={"tenant": "initech"}, headers=auth)
    secret = keys.json()["key"]
    openai_upstream.script(Reply.json(answer("See TPS-4411 and TPS-9.")))
    reply = served.client(secret).chat.completions.create(model="open", messages=ask("tps?"))
    assert reply.choices[0].message.content == "See [TPS] and [TPS]."


def test_decisions_are_counted_on_get_metrics(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.json(answer(f"card {CARD}")))
    client = served.client(MASTER)
    client.chat.completions.create(model="guarded", messages=ask("card?"))
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="guarded", messages=ask("project falcon"))
    deadline = time.monotonic() + 5
    while True:
        text = httpx.get(f"{served.url}/metrics").text
        block = 'llm_guardrail_decisions_total{action="block",guardrail="codename",on="input"} 1.0'
        redact = 'llm_guardrail_decisions_total{action="redact",guardrail="cards",on="output"} 1.0'
        if (block in text and redact in text) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert block in text and redact in text


def test_the_anthropic_door_gets_the_same_guardrails(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.stream(pieces("Card 4111 ", "1111 1111 ", "1111 it is.")))
    client = anthropic.Anthropic(base_url=served.url, api_key=MASTER, max_retries=0)
    with client.messages.stream(model="guarded", max_tokens=64, messages=ask("card?")) as stream:
        assert "".join(stream.text_stream) == "Card [REDACTED:CREDIT_CARD] it is."
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(model="guarded", max_tokens=64, messages=ask("project falcon?"))
    assert refused.value.status_code == 400
    assert "codename" in str(refused.value.body)


def call_pieces(*calls: tuple[str, str, list[str]]) -> list[dict[str, Any]]:
    """OpenAI stream chunks of tool calls, as OpenAI streams them: each call's first piece with
    its id and name, then its arguments in pieces; the finish ``tool_calls``."""
    chunks: list[dict[str, Any]] = [
        {**BASE, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]}
    ]
    for index, (call_id, name, parts) in enumerate(calls):
        first = {"index": index, "id": call_id, "type": "function",
                 "function": {"name": name, "arguments": ""}}  # fmt: skip
        chunks.append({**BASE, "choices": [{"index": 0, "delta": {"tool_calls": [first]}}]})
        for part in parts:
            piece = {"index": index, "function": {"arguments": part}}
            chunks.append({**BASE, "choices": [{"index": 0, "delta": {"tool_calls": [piece]}}]})
    chunks.append({**BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return chunks


def test_a_card_in_a_tool_calls_arguments_is_redacted_streamed_and_plain(
    served: ServedGateway, openai_upstream: OpenAIUpstream
) -> None:
    streamed = call_pieces(
        ("call_1", "charge", ['{"card": "4111 11', '11 1111 1111", "amount": 5}']),
        ("call_2", "note", ['{"text": "thanks"}']),
    )
    plain = answer("")
    plain["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_3", "type": "function", "function": {
            "name": "charge", "arguments": f'{{"card": "{CARD}", "amount": 5}}'}}],
    }  # fmt: skip
    plain["choices"][0]["finish_reason"] = "tool_calls"
    openai_upstream.script(Reply.stream(streamed), Reply.json(plain))
    client = served.client(MASTER)
    stream = client.chat.completions.create(model="guarded", messages=ask("pay"), stream=True)
    calls: dict[int, dict[str, str]] = {}
    for chunk in stream:
        for piece in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += piece.id or ""
            call["name"] += (piece.function.name or "") if piece.function else ""
            call["arguments"] += (piece.function.arguments or "") if piece.function else ""
    assert [(c["id"], c["name"]) for c in calls.values()] == [
        ("call_1", "charge"),
        ("call_2", "note"),
    ]
    assert json.loads(calls[0]["arguments"]) == {"card": "[REDACTED:CREDIT_CARD]", "amount": 5}
    assert calls[1]["arguments"] == '{"text": "thanks"}'  # untouched, byte for byte
    answered = client.chat.completions.create(model="guarded", messages=ask("pay"))
    tool_calls = answered.choices[0].message.tool_calls
    assert tool_calls is not None and tool_calls[0].type == "function"
    arguments = json.loads(tool_calls[0].function.arguments)
    assert arguments == {"card": "[REDACTED:CREDIT_CARD]", "amount": 5}
    rows = usage_rows(served_url_storage(served), 2)
    assert [r["guardrails"] for r in rows] == [[["cards", "output", "redact"]]] * 2
