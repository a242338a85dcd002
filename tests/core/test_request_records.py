"""Every request ends in exactly one RequestRecord: plain, streamed, hedged, failed over."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tests.fakes.gateway import fake_provider

from switchyard import Gateway, ProviderUnavailable
from switchyard.providers.fake import FakeFailure
from switchyard.records.record import RequestRecord
from switchyard.records.sinks import describe
from switchyard.types import ChatRequest, Principal, Usage

HELLO = [{"role": "user", "content": "count to four"}]
PRICES = {"input": 1, "output": 2}  # USD per million tokens


class Collect:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)

    def one(self) -> RequestRecord:
        assert len(self.records) == 1, self.records
        return self.records[0]


class Immediate:
    async def __call__(self, seconds: float) -> None:
        return None


def make_gateway(
    sink: Collect, *, providers: dict[str, dict[str, Any]] | None = None, **alias: Any
) -> Gateway:
    providers = providers or {
        "a": {"type": "fake", "reply": "one two three four"},
        "b": {"type": "fake", "reply": " three four"},
    }
    config = {
        "providers": providers,
        "models": [
            {
                "name": "smart",
                **alias,
                "deployments": [
                    {"provider": p, "model": f"{p}-model", "prices": PRICES} for p in providers
                ],
            },
            {"name": "embed", "deployments": [{"provider": "a", "model": "a-embed"}]},
        ],
        "router": {"retries": 0},
    }
    return Gateway.from_config(config, sinks=[sink], sleep=Immediate())


def cost(usage: Usage) -> float:
    return (usage.input_tokens * 1 + usage.output_tokens * 2) / 1e6


async def test_a_plain_request_is_one_record_with_usage_cost_and_its_caller() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    caller = Principal(request_id="req-1", tenant="acme", key_id="k1", user="ada")
    response = await gateway.chat(model="smart", messages=HELLO, principal=caller)
    record = sink.one()
    assert record.principal is caller and record.request_id == "req-1"
    assert (record.kind, record.alias, record.status) == ("chat", "smart", "success")
    assert (record.provider, record.model) == ("a", "a-model")
    assert record.usage == response.usage and record.usage.output_tokens > 0
    assert record.cost is not None and record.cost.total == pytest.approx(cost(record.usage))
    assert [(a.deployment, a.outcome) for a in record.attempts] == [("a/a-model", "ok")]
    assert record.latency_ms > 0 and record.ttft_ms is None


async def test_a_failover_lists_every_attempt() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    fake_provider(gateway, "a").script(FakeFailure(status=503))
    await gateway.chat(model="smart", messages=HELLO)
    record = sink.one()
    assert [(a.deployment, a.outcome, a.error_type, a.status) for a in record.attempts] == [
        ("a/a-model", "error", "provider_unavailable", 503),
        ("b/b-model", "ok", None, None),
    ]
    assert record.provider == "b"


async def test_a_failed_request_is_one_error_record_and_its_error_keeps_every_attempt() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    fake_provider(gateway, "a").script(FakeFailure(status=503))
    fake_provider(gateway, "b").script(FakeFailure(status=502))
    with pytest.raises(ProviderUnavailable) as raised:
        await gateway.chat(model="smart", messages=HELLO)
    assert [(e.deployment, e.upstream_status) for e in raised.value.attempts] == [
        ("a/a-model", 503),
        ("b/b-model", 502),
    ]
    record = sink.one()
    assert (record.status, record.error_type, record.http_status) == (
        "error",
        "provider_unavailable",
        503,
    )
    assert [(a.deployment, a.status) for a in record.attempts] == [
        ("a/a-model", 503),
        ("b/b-model", 502),
    ]
    assert record.usage is None and record.cost is None


async def test_an_unknown_model_is_still_one_record() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    with pytest.raises(Exception, match="neither a configured alias"):
        await gateway.chat(model="nope", messages=HELLO)
    with pytest.raises(Exception, match="neither a configured alias"):
        gateway.stream(model="nope", messages=HELLO)
    assert [(r.kind, r.error_type, r.http_status) for r in sink.records] == [
        ("chat", "model_not_found", 404),
        ("stream", "model_not_found", 404),
    ]


async def test_a_stream_is_one_record_with_time_to_first_token() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    request = ChatRequest.model_validate({"model": "smart", "messages": HELLO})
    stream = gateway.stream(request)
    chunks = [chunk async for chunk in stream]
    assert request.stream is False  # the caller's request is left as it was
    record = sink.one()
    assert (record.kind, record.status, record.provider) == ("stream", "success", "a")
    assert record.ttft_ms is not None and 0 < record.ttft_ms <= record.latency_ms
    final = [c for c in chunks if c.usage is not None][-1]
    assert record.usage == final.usage and not record.usage_estimated
    assert final.cost is not None and record.cost == final.cost
    assert [(a.deployment, a.outcome) for a in record.attempts] == [("a/a-model", "ok")]


async def test_a_hedged_stream_is_one_record_naming_the_loser() -> None:
    sink = Collect()
    gateway = make_gateway(
        sink,
        providers={
            "a": {"type": "fake", "reply": "slow", "latency": 30.0},
            "b": {"type": "fake", "reply": "fast"},
        },
        hedge={"delay": 0.01},
    )
    chunks = [chunk async for chunk in gateway.stream(model="smart", messages=HELLO)]
    assert "".join(c.text or "" for c in chunks) == "fast"
    record = sink.one()
    assert record.hedged and record.provider == "b"
    assert sorted((a.deployment, a.outcome) for a in record.attempts) == [
        ("a/a-model", "abandoned"),
        ("b/b-model", "ok"),
    ]


async def test_a_mid_stream_failover_is_one_record_summing_both_legs() -> None:
    sink = Collect()
    gateway = make_gateway(sink, mid_stream_failover=True)
    fake_provider(gateway, "a").script(FakeFailure(mode="cut_stream", after_chunks=2))
    chunks = [chunk async for chunk in gateway.stream(model="smart", messages=HELLO)]
    assert "".join(c.text or "" for c in chunks) == "one two three four"
    record = sink.one()
    assert record.status == "success" and len(record.failovers) == 1
    assert [(a.deployment, a.outcome) for a in record.attempts] == [
        ("a/a-model", "error"),
        ("b/b-model", "ok"),
    ]
    assert (record.provider, record.model) == ("b", "b-model")
    final = [c for c in chunks if c.usage is not None][-1]
    assert record.usage == final.usage
    # the broken leg reported no usage: the gateway counted it, and says so
    assert record.usage_estimated
    assert record.usage.output_tokens > final.usage.output_tokens - 1
    assert record.cost is not None and record.cost.total == pytest.approx(cost(record.usage))


async def test_a_stream_the_caller_leaves_is_one_cancelled_record() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    stream = gateway.stream(model="smart", messages=HELLO)
    async for _ in stream:
        break
    await stream.aclose()
    record = sink.one()
    assert (record.status, record.error_type) == ("cancelled", "cancelled")
    assert [(a.deployment, a.outcome) for a in record.attempts] == [("a/a-model", "abandoned")]
    assert all(h.in_flight == 0 for h in gateway.health.deployments.values())


async def test_a_stream_that_breaks_is_one_error_record() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    fake_provider(gateway, "a").script(FakeFailure(mode="cut_stream", after_chunks=1))
    with pytest.raises(ProviderUnavailable):
        async for _ in gateway.stream(model="smart", messages=HELLO):
            pass
    record = sink.one()
    assert (record.status, record.error_type) == ("error", "provider_unavailable")
    assert [(a.deployment, a.outcome) for a in record.attempts] == [("a/a-model", "error")]
    assert record.usage is not None and record.usage_estimated


async def test_an_embedding_is_one_record() -> None:
    sink = Collect()
    gateway = make_gateway(sink)
    await gateway.embed(model="embed", input=["hello"])
    record = sink.one()
    assert (record.kind, record.alias, record.provider, record.status) == (
        "embed",
        "embed",
        "a",
        "success",
    )
    assert record.cost is None and not record.priced  # no price configured: never $0


async def test_a_failing_sink_never_fails_the_request(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def emit(self, record: RequestRecord) -> None:
            raise RuntimeError("sink down")

    sink = Collect()
    gateway = Gateway.from_config(
        {
            "providers": {"a": {"type": "fake"}},
            "models": [{"name": "m", "deployments": [{"provider": "a", "model": "x"}]}],
        },
        sinks=[Broken(), sink],
    )
    with caplog.at_level(logging.ERROR, logger="switchyard.gateway"):
        await gateway.chat(model="m", messages=HELLO)
    assert len(sink.records) == 1
    assert "record sink" in caplog.text


async def test_the_log_line_says_who_what_and_how_much_but_no_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = make_gateway(Collect())
    caller = Principal(request_id="req-9", tenant="acme", user='eve" admin=1')
    with caplog.at_level(logging.INFO, logger="switchyard.requests"):
        await gateway.chat(model="smart", messages=HELLO, principal=caller)
    [line] = [r.getMessage() for r in caplog.records if r.name == "switchyard.requests"]
    assert line.startswith("request_id=req-9 kind=chat status=success tenant=acme")
    assert 'user="eve\\" admin=1"' in line  # caller text is quoted: no forged fields
    assert "deployment=a/a-model attempts=1" in line and "cost_usd=" in line
    assert "count to four" not in line and "one two" not in line


def test_describe_marks_an_unpriced_request() -> None:
    record = RequestRecord(
        principal=Principal.anonymous_admin("r"),
        kind="chat",
        alias="m",
        started_at=0.0,
        started=0.0,
        usage=Usage(input_tokens=1, output_tokens=2),
        priced=False,
    )
    assert "cost_usd=unpriced" in describe(record)
