"""The metrics sink on its own: tenants, abandoned hedges, bounded labels, scrape-time gauges."""

from __future__ import annotations

from typing import Any

from switchyard.records import metrics as metrics_module
from switchyard.records.metrics import Metrics
from switchyard.records.record import AttemptRecord, RequestRecord
from switchyard.types import Cost, Principal, Usage


def sink() -> Metrics:
    return Metrics(
        aliases=["smart"],
        deployments=[("a", "a-1"), ("b", "b-1")],
        providers=["a", "b"],
    )


def record(tenant: str | None = None, **fields: Any) -> RequestRecord:
    return RequestRecord(
        principal=Principal("r-1", tenant=tenant),
        kind="chat",
        alias=fields.pop("alias", "smart"),
        started_at=0.0,
        started=0.0,
        **fields,
    )


def sample(m: Metrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_an_abandoned_hedge_counts_its_tokens_and_dollars_for_its_deployment_and_tenant() -> None:
    m = sink()
    m.emit(
        record(
            "acme",
            provider="a",
            model="a-1",
            latency_ms=200.0,
            upstream_ms=150.0,
            usage=Usage(input_tokens=10, output_tokens=5, cached_input_tokens=4),
            cost=Cost(total=0.25),
            attempts=[
                AttemptRecord(
                    "b/b-1",
                    "abandoned",
                    usage=Usage(input_tokens=10, output_tokens=1, reasoning_tokens=1),
                    cost=Cost(total=0.5),
                ),
                AttemptRecord("a/a-1", "ok"),
            ],
        )
    )
    tokens = "llm_tokens_used_total"
    assert sample(m, tokens, provider="a", model="a-1", type="input") == 10
    assert sample(m, tokens, provider="a", model="a-1", type="cached") == 4
    assert sample(m, tokens, provider="b", model="b-1", type="input") == 10
    assert sample(m, tokens, provider="b", model="b-1", type="reasoning") == 1
    assert sample(m, "llm_cost_dollars_total", provider="b", model="b-1") == 0.5
    assert sample(m, "llm_tenant_cost_dollars_total", tenant="acme") == 0.75
    assert sample(m, "llm_attempts_total", provider="b", model="b-1", outcome="abandoned") == 1
    assert sample(m, "switchyard_overhead_seconds_sum") == 0.05


def test_label_values_never_come_from_caller_text(monkeypatch: Any) -> None:
    monkeypatch.setattr(metrics_module, "MAX_TENANTS", 2)
    m = sink()
    for i in range(5):
        m.emit(
            record(
                f"tenant-{i}",
                alias=f"free text {i}",
                provider="mystery",
                model=f"m-{i}",
                status="error",
                error_type="provider_unavailable",
                cost=Cost(total=1.0),
                attempts=[AttemptRecord(f"a/made-up-{i}", "error", "timeout")],
            )
        )
    requests = "llm_requests_total"
    labels = {"provider": "other", "model": "other", "alias": "none"}
    assert sample(m, requests, **labels, status="provider_unavailable") == 5
    assert sample(m, "llm_attempts_total", provider="a", model="other", outcome="timeout") == 5
    assert sample(m, "llm_tenant_cost_dollars_total", tenant="tenant-0") == 1
    assert sample(m, "llm_tenant_cost_dollars_total", tenant="tenant-1") == 1
    assert sample(m, "llm_tenant_cost_dollars_total", tenant="other") == 3
    exposed = {
        value
        for family in m.registry.collect()
        for s in family.samples
        for value in s.labels.values()
    }
    assert not any("free text" in v or v.startswith("m-") or "made-up" in v for v in exposed)


def test_a_cancelled_request_and_the_scrape_time_gauges() -> None:
    m = sink()
    m.emit(record(status="cancelled", error_type="cancelled"))
    assert (
        sample(
            m,
            "llm_requests_total",
            provider="none",
            model="none",
            alias="smart",
            status="cancelled",
        )
        == 1
    )
    m.set_breakers([("a", "a-1", "half_open"), ("b", "b-1", "open")])
    assert sample(m, "llm_circuit_breaker_state", provider="a", model="a-1") == 1
    assert sample(m, "llm_circuit_breaker_state", provider="b", model="b-1") == 2
    m.set_breakers(None)  # the breaker store is down: no stale states
    assert sample(m, "llm_circuit_breaker_state", provider="b", model="b-1") is None
    m.set_queue("usage", depth=7, dropped=3)
    m.set_queue("usage", depth=0, dropped=5)
    assert sample(m, "llm_queue_depth", queue="usage") == 0
    assert sample(m, "llm_queue_dropped_total", queue="usage") == 5  # the ledger's own count
