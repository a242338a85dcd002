"""Guardrails through the library's Gateway: the input stage (block, redact, warn) before the
limits, the cache and the upstream; the answer stage on plain and streamed answers; each
decision on the request's record and in the metric."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard import Gateway
from switchyard.errors import ContentFiltered, ContentPolicyViolation
from switchyard.guardrails import Policy
from switchyard.guardrails.detectors import DETECTORS
from switchyard.providers.fake import FakeFailure, FakeProvider
from switchyard.records.record import GuardrailDecision, RequestRecord
from switchyard.tenancy.settings import TenantSettings
from switchyard.types import ChatChunk, Principal

CARD = "4111 1111 1111 1111"


class Records:
    def __init__(self) -> None:
        self.seen: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.seen.append(record)

    @property
    def last(self) -> RequestRecord:
        return self.seen[-1]


def config(guardrails: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "providers": {"a": {"type": "fake"}},  # echoes the last user message
        "models": [
            {"name": "guarded", "deployments": [{"provider": "a", "model": "m"}],
             "guardrails": guardrails, **extra},
            {"name": "open", "deployments": [{"provider": "a", "model": "m"}]},
        ],
    }  # fmt: skip


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


def upstream(gateway: Gateway, name: str = "a") -> FakeProvider:
    provider = gateway.providers[name]
    assert isinstance(provider, FakeProvider)
    return provider


async def collect(gateway: Gateway, text: str, **fields: Any) -> list[ChatChunk]:
    return [c async for c in gateway.stream(model="guarded", messages=ask(text), **fields)]


async def test_blocked_input_is_refused_before_any_upstream_and_names_the_guardrail() -> None:
    records = Records()
    rules = [{"type": "blocklist", "name": "secrets", "on": "input", "action": "block",
              "words": ["project falcon"]}]  # fmt: skip
    async with Gateway.from_config(config(rules), sinks=[records]) as gateway:
        with pytest.raises(ContentPolicyViolation) as refused:
            await gateway.chat(model="guarded", messages=ask("What is Project Falcon?"))
        assert refused.value.status_code == 400
        assert refused.value.code == "content_policy_violation"
        assert refused.value.error_type == "invalid_request_error"
        assert refused.value.param == "messages[1].content"
        assert "'secrets'" in refused.value.message
        assert upstream(gateway).calls == 0
        record = records.last
        assert record.guardrails == (GuardrailDecision("secrets", "input", "block"),)
        assert (record.status, record.error_type, record.http_status) == (
            "error", "content_policy_violation", 400,
        )  # fmt: skip
        # streams are refused the same way, before they open; other aliases are not guarded
        with pytest.raises(ContentPolicyViolation):
            gateway.stream(model="guarded", messages=ask("project falcon status"))
        answer = await gateway.chat(model="open", messages=ask("What is Project Falcon?"))
        assert answer.text == "What is Project Falcon?"
        assert records.last.guardrails == ()


async def test_redacted_input_is_what_the_upstream_gets_and_warn_only_records() -> None:
    records = Records()
    rules = [
        {"type": "pii", "name": "pii-in", "on": "input", "action": "redact",
         "detect": ["email", "credit_card"]},
        {"type": "regex", "name": "shouting", "on": "input", "action": "warn",
         "pattern": "[A-Z]{5,}"},
    ]  # fmt: skip
    async with Gateway.from_config(config(rules), sinks=[records]) as gateway:
        text = f"HELLO, charge {CARD} and mail jane@example.com"
        answer = await gateway.chat(model="guarded", messages=ask(text))
        sent = upstream(gateway).requests[-1].messages[-1].text()
        assert sent == "HELLO, charge [REDACTED:CREDIT_CARD] and mail [REDACTED:EMAIL]"
        assert answer.text == sent  # the echo: what went upstream
        assert records.last.guardrails == (
            GuardrailDecision("pii-in", "input", "redact"),
            GuardrailDecision("shouting", "input", "warn"),
        )
        assert records.last.status == "success"
        # text parts are redacted one by one; images and other messages are left as they are
        parts = [{"type": "text", "text": f"card {CARD}"},
                 {"type": "image", "url": "https://example.com/a.png"}]  # fmt: skip
        await gateway.chat(model="guarded", messages=[{"role": "user", "content": parts}])
        content = upstream(gateway).requests[-1].messages[-1].content
        assert isinstance(content, list)
        assert content[0].text == "card [REDACTED:CREDIT_CARD]"  # type: ignore[union-attr]
        assert content[1].url == "https://example.com/a.png"  # type: ignore[union-attr]


async def test_input_over_max_length_is_blocked() -> None:
    rules = [{"type": "max_length", "on": "input", "action": "block", "max_chars": 20}]
    async with Gateway.from_config(config(rules)) as gateway:
        await gateway.chat(model="guarded", messages=[{"role": "user", "content": "short"}])
        with pytest.raises(ContentPolicyViolation, match="max_length") as refused:
            await gateway.chat(model="guarded", messages=ask("a question of some length"))
        assert refused.value.param == "messages"


async def test_a_plain_answer_is_redacted_or_blocked() -> None:
    records = Records()
    rules = [
        {"type": "pii", "on": "output", "action": "redact"},
        {"type": "blocklist", "name": "forbidden", "on": "output", "action": "block",
         "words": ["launch code"]},
    ]  # fmt: skip
    async with Gateway.from_config(config(rules), sinks=[records]) as gateway:
        answer = await gateway.chat(model="guarded", messages=ask(f"your card: {CARD}."))
        assert answer.text == "your card: [REDACTED:CREDIT_CARD]."
        assert records.last.guardrails == (GuardrailDecision("pii", "output", "redact"),)
        with pytest.raises(ContentFiltered) as blocked:
            await gateway.chat(model="guarded", messages=ask("the Launch Code is 0000"))
        assert blocked.value.code == "content_filter" and blocked.value.status_code == 400
        assert "'forbidden'" in blocked.value.message
        record = records.last
        assert record.guardrails == (GuardrailDecision("forbidden", "output", "block"),)
        assert (record.status, record.error_type) == ("error", "content_filter")
        assert record.usage is not None and record.usage.output_tokens > 0  # it was paid for


async def test_a_streamed_answer_is_redacted_across_chunks_and_still_streams() -> None:
    records = Records()
    rules = [{"type": "pii", "on": "output", "action": "redact", "detect": ["credit_card"]}]
    async with Gateway.from_config(config(rules), sinks=[records]) as gateway:
        # the fake streams word by word: the card comes in four chunks
        long = "word " * 30
        chunks = await collect(gateway, f"{long}card {CARD} is yours")
        texts = [c.text for c in chunks if c.text]
        assert "".join(texts) == f"{long}card [REDACTED:CREDIT_CARD] is yours"
        assert len(texts) > 10  # released as it came, not all at the end
        assert chunks[-1].finish_reason == "stop" and chunks[-1].usage is not None
        assert records.last.guardrails == (GuardrailDecision("pii", "output", "redact"),)
        assert records.last.status == "success"


async def test_a_stream_blocked_mid_way_ends_with_the_error_and_is_recorded() -> None:
    records = Records()
    rules = [{"type": "regex", "name": "no-rm", "on": "output", "action": "block",
              "pattern": r"rm -rf /"}]  # fmt: skip
    async with Gateway.from_config(config(rules), sinks=[records]) as gateway:
        seen: list[str] = []
        with pytest.raises(ContentFiltered, match="no-rm"):
            async for chunk in gateway.stream(
                model="guarded", messages=ask("first do this, then run rm -rf / as root")
            ):
                seen.append(chunk.text or "")
        assert "".join(seen).startswith("first do this,")
        assert "rm" not in "".join(seen)
        record = records.last
        assert (record.status, record.error_type) == ("error", "content_filter")
        assert record.guardrails == (GuardrailDecision("no-rm", "output", "block"),)


async def test_max_length_truncates_and_json_schema_checks_the_whole_answer() -> None:
    records = Records()
    rules = [
        {"type": "max_length", "on": "output", "action": "redact", "max_chars": 12},
        {"type": "json_schema", "name": "shape", "on": "output", "action": "warn",
         "schema": {"type": "object", "required": ["ok"]}},
    ]  # fmt: skip
    async with Gateway.from_config(config(rules), sinks=[records]) as gateway:
        answer = await gateway.chat(model="guarded", messages=ask('{"ok": true, "more": 1}'))
        assert answer.text == '{"ok": true,'
        assert [d.name for d in records.last.guardrails] == ["max_length", "shape"]
        chunks = await collect(gateway, '{"ok": true, "more": 1}')
        assert "".join(c.text or "" for c in chunks) == '{"ok": true,'
        assert [d.name for d in records.last.guardrails] == ["max_length", "shape"]
        await gateway.chat(model="guarded", messages=ask('{"ok": 1}'))
        assert records.last.guardrails == ()
    blocking = [{"type": "json_schema", "on": "output", "action": "block",
                 "schema": {"type": "object"}}]  # fmt: skip
    async with Gateway.from_config(config(blocking)) as gateway:
        with pytest.raises(ContentFiltered):
            await gateway.chat(model="guarded", messages=ask("not json"))
        with pytest.raises(ContentFiltered):  # a stream: at its end
            await collect(gateway, "not json either")
        assert (await gateway.chat(model="guarded", messages=ask("{}"))).text == "{}"


async def test_a_tenants_guardrails_apply_after_the_aliases() -> None:
    records = Records()
    rules = [{"type": "pii", "on": "output", "action": "redact", "detect": ["email"]}]
    tenant = TenantSettings.model_validate(
        {"name": "acme", "guardrails": [
            {"type": "blocklist", "name": "acme-words", "on": "input", "action": "block",
             "words": ["competitor"]},
            {"type": "pii", "name": "acme-pii", "on": "output", "action": "redact"},
        ]}
    )  # fmt: skip
    assert isinstance(tenant.grant().guardrails, Policy)
    caller = Principal("r1", tenant="acme", key_id="k", grant=tenant.grant())
    async with Gateway.from_config(config(rules), sinks=[records]) as gateway:
        with pytest.raises(ContentPolicyViolation, match="acme-words"):
            await gateway.chat(model="open", messages=ask("the competitor"), principal=caller)
        answer = await gateway.chat(
            model="guarded", messages=ask(f"a@example.com {CARD}"), principal=caller
        )
        assert answer.text == "[REDACTED:EMAIL] [REDACTED:CREDIT_CARD]"
        assert records.last.guardrails == (
            GuardrailDecision("pii", "output", "redact"),
            GuardrailDecision("acme-pii", "output", "redact"),
        )
        # the anonymous caller has only the alias's
        answer = await gateway.chat(model="guarded", messages=ask(f"a@example.com {CARD}"))
        assert answer.text == f"[REDACTED:EMAIL] {CARD}"


async def test_the_cache_keeps_the_redacted_answer() -> None:
    rules = [{"type": "pii", "on": "output", "action": "redact", "detect": ["credit_card"]}]
    with_cache = {**config(rules), "cache": {"backend": "memory"}}
    with_cache["models"][0]["cache"] = {"ttl_seconds": 60}
    async with Gateway.from_config(with_cache) as gateway:
        first = await gateway.chat(model="guarded", messages=ask(f"card {CARD}"))
        again = await gateway.chat(model="guarded", messages=ask(f"card {CARD}"))
        assert again.cache_status == "hit"
        assert first.text == again.text == "card [REDACTED:CREDIT_CARD]"


async def test_the_metric_counts_each_decision() -> None:
    rules = [{"type": "regex", "name": "ticket", "on": "output", "action": "warn",
              "pattern": r"TICKET-\d{3}"}]  # fmt: skip
    async with Gateway.from_config(config(rules)) as gateway:
        await gateway.chat(model="guarded", messages=ask("see TICKET-123 and TICKET-456"))
        await collect(gateway, "and TICKET-789")
        await gateway.chat(model="guarded", messages=ask("nothing here"))
        assert gateway.metrics is not None
        value = gateway.metrics.registry.get_sample_value(
            "llm_guardrail_decisions_total",
            {"guardrail": "ticket", "on": "output", "action": "warn"},
        )
        assert value == 2.0


async def test_a_stream_continued_elsewhere_after_a_break_drops_what_it_held_back() -> None:
    """With mid_stream_failover, the next deployment says the held-back text again: it is
    redacted with the rest, never sent twice."""
    full = "x " * 40 + f"card {CARD} done"
    sent_by_a = "x " * 40 + "card 4111"  # 42 word pieces, then the cut
    held = DETECTORS["credit_card"].max_length + 1
    released = len(sent_by_a.rstrip()) - held  # what the client had when a broke
    cfg = {
        "providers": {
            "a": {"type": "fake", "reply": full},
            "b": {"type": "fake", "reply": full[released:]},
        },
        "models": [{
            "name": "guarded", "mid_stream_failover": True,
            "deployments": [{"provider": "a", "model": "a"}, {"provider": "b", "model": "b"}],
            "guardrails": [{"type": "pii", "on": "output", "action": "redact",
                            "detect": ["credit_card"]}],
        }],
        "router": {"retries": 0},
    }  # fmt: skip
    async with Gateway.from_config(cfg) as gateway:
        upstream(gateway).script(FakeFailure(mode="cut_stream", after_chunks=42))
        stream = gateway.stream(model="guarded", messages=ask("go"), max_tokens=500)
        chunks = [c async for c in stream]
        assert stream.failovers, "the stream continued on b"
        text = "".join(c.text or "" for c in chunks)
        assert text == "x " * 40 + "card [REDACTED:CREDIT_CARD] done"
        continued = upstream(gateway, "b").requests[-1]
        assert continued.messages[-2].text() == full[:released]  # b continues what was shown


async def test_a_templates_rendered_prompt_is_the_input_checked_plain_and_streamed() -> None:
    """The template is rendered first; the guardrail sees what would go upstream."""
    rules = [{"type": "blocklist", "name": "secrets", "on": "input", "action": "block",
              "words": ["project falcon"]}]  # fmt: skip
    setup = config(rules)
    setup["templates"] = [{"name": "ask", "template": "Tell me about {{ topic }}."}]
    template = {"name": "ask", "variables": {"topic": "Project Falcon"}}
    async with Gateway.from_config(setup) as gateway:
        with pytest.raises(ContentPolicyViolation):
            await gateway.chat(model="guarded", messages=[], template=template)
        with pytest.raises(ContentPolicyViolation):
            await collect_chunks(gateway.stream(model="guarded", messages=[], template=template))
        assert upstream(gateway).calls == 0
        fine = {"name": "ask", "variables": {"topic": "owls"}}
        chunks = await collect_chunks(gateway.stream(model="guarded", messages=[], template=fine))
        assert "owls" in "".join(c.text or "" for c in chunks)


async def collect_chunks(stream: Any) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


async def test_tool_call_arguments_earlier_in_the_conversation_are_input_too() -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "pay"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "name": "charge", "arguments": f'{{"card": "{CARD}"}}'}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
        {"role": "user", "content": "thanks"},
    ]  # fmt: skip
    blocked = [{"type": "pii", "name": "cards", "on": "input", "action": "block",
                "detect": ["credit_card"]}]  # fmt: skip
    async with Gateway.from_config(config(blocked)) as gateway:
        with pytest.raises(ContentPolicyViolation) as refused:
            await gateway.chat(model="guarded", messages=history)
        assert refused.value.param == "messages[1].tool_calls[0].function.arguments"
        assert not upstream(gateway).requests
    redacted = [{**blocked[0], "action": "redact"}]
    async with Gateway.from_config(config(redacted)) as gateway:
        await gateway.chat(model="guarded", messages=history)
        sent = upstream(gateway).requests[-1].messages[1].tool_calls
        assert sent is not None and sent[0].arguments == '{"card": "[REDACTED:CREDIT_CARD]"}'
