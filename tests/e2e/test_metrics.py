"""GET /metrics after a scripted run through the served gateway: the exact counts.

The run, on ``fake`` providers: three plain answers and a stream from ``smart`` (priced), a
failover (``broken/x`` fails, ``b/b-1`` answers), two failures of ``down`` that open its
breaker (threshold 2) and a third refused by the open breaker, an unknown model, and a
direct ``provider/model`` name no alias lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from switchyard import Gateway
from switchyard.records.metrics import METRIC_NAMES
from tests.e2e.served import ServedGateway, serve
from tests.e2e.served_process import free_port

KEY = "sk-master-metrics-test"
HEADERS = {"authorization": f"Bearer {KEY}"}
CONFIG: dict[str, Any] = {
    "server": {"master_key": KEY},
    "router": {"retries": 0, "circuit_breaker": {"failure_threshold": 2, "recovery_timeout": 300}},
    "providers": {
        "a": {"type": "fake", "reply": "hello there friend"},
        "b": {"type": "fake", "reply": "from b"},
        "broken": {"type": "fake", "failure": {"status": 503}},
    },
    "models": [
        {
            "name": "smart",
            "deployments": [
                {"provider": "a", "model": "a-1", "prices": {"input": 1.0, "output": 2.0}}
            ],
        },
        {
            "name": "failover",
            "deployments": [
                {"provider": "broken", "model": "x"},
                {"provider": "b", "model": "b-1"},
            ],
        },
        {"name": "down", "deployments": [{"provider": "broken", "model": "y"}]},
    ],
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(served: ServedGateway, **headers: str) -> tuple[str, Samples]:
    answer = httpx.get(f"{served.url}/metrics", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return answer.text, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def named(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def ask(client: httpx.Client, model: str, **extra: Any) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi there"}], **extra}
    answer = client.post("/v1/chat/completions", json=body, headers=HEADERS)
    if extra.get("stream"):
        assert answer.text.endswith("data: [DONE]\n\n")
    return answer.status_code


@pytest.fixture
def after_the_run() -> Iterator[tuple[ServedGateway, str, Samples]]:
    with serve(Gateway.from_config(CONFIG)) as served, httpx.Client(base_url=served.url) as c:
        statuses = [ask(c, "smart") for _ in range(3)]
        statuses.append(ask(c, "smart", stream=True))
        statuses.append(ask(c, "failover"))
        statuses += [ask(c, "down") for _ in range(3)]
        statuses.append(ask(c, "no-such-model"))
        statuses.append(ask(c, "a/some-model"))
        assert statuses == [200, 200, 200, 200, 200, 503, 503, 503, 404, 200]
        text, samples = scrape(served)  # no key: /metrics is open to the scraper
        yield served, text, samples


def test_requests_and_attempts_carry_the_exact_counts(
    after_the_run: tuple[ServedGateway, str, Samples],
) -> None:
    _, _, samples = after_the_run
    requests = {
        tuple(sorted(labels)): v for labels, v in named(samples, "llm_requests_total").items()
    }
    assert requests == {
        (("alias", "smart"), ("model", "a-1"), ("provider", "a"), ("status", "success")): 4,
        (("alias", "failover"), ("model", "b-1"), ("provider", "b"), ("status", "success")): 1,
        (
            ("alias", "down"),
            ("model", "none"),
            ("provider", "none"),
            ("status", "provider_unavailable"),
        ): 2,
        (
            ("alias", "down"),
            ("model", "none"),
            ("provider", "none"),
            ("status", "no_healthy_deployment"),
        ): 1,
        (
            ("alias", "none"),
            ("model", "none"),
            ("provider", "none"),
            ("status", "model_not_found"),
        ): 1,
        # a direct provider/model no alias lists: its model folded to "other"
        (("alias", "none"), ("model", "other"), ("provider", "a"), ("status", "success")): 1,
    }
    attempts = {
        tuple(sorted(labels)): v for labels, v in named(samples, "llm_attempts_total").items() if v
    }
    assert attempts == {
        (("model", "a-1"), ("outcome", "ok"), ("provider", "a")): 4,
        (("model", "x"), ("outcome", "provider_unavailable"), ("provider", "broken")): 1,
        (("model", "b-1"), ("outcome", "ok"), ("provider", "b")): 1,
        (("model", "y"), ("outcome", "provider_unavailable"), ("provider", "broken")): 2,
        (("model", "other"), ("outcome", "ok"), ("provider", "a")): 1,
    }


def test_latency_tokens_cost_and_breakers(
    after_the_run: tuple[ServedGateway, str, Samples],
) -> None:
    _, _, samples = after_the_run
    duration = "llm_response_duration_seconds_count"
    assert value(samples, duration, provider="a", model="a-1") == 4
    assert value(samples, duration, provider="b", model="b-1") == 1
    assert value(samples, duration, provider="a", model="other") == 1
    assert not value(samples, duration, provider="none", model="none")  # no one answered
    assert value(samples, "llm_time_to_first_token_seconds_count", provider="a", model="a-1") == 1
    # plain requests answered by a deployment: 3 smart, the failover, the direct one
    assert value(samples, "switchyard_overhead_seconds_count") == 5
    # "hi there": 2 tokens in; "hello there friend": 3 out; four times (the stream too)
    tokens = "llm_tokens_used_total"
    assert value(samples, tokens, provider="a", model="a-1", type="input") == 8
    assert value(samples, tokens, provider="a", model="a-1", type="output") == 12
    assert value(samples, tokens, provider="b", model="b-1", type="output") == 2
    assert value(samples, tokens, provider="a", model="other", type="input") == 2
    assert value(samples, tokens, provider="a", model="a-1", type="cached") == 0
    # $1 and $2 per million: 4 x (2 x 1 + 3 x 2) / 1e6
    assert value(samples, "llm_cost_dollars_total", provider="a", model="a-1") == pytest.approx(
        32e-6
    )
    assert named(samples, "llm_tenant_cost_dollars_total") == {}  # the master key: no tenant
    breakers = {
        tuple(sorted(labels)): v
        for labels, v in named(samples, "llm_circuit_breaker_state").items()
    }
    assert breakers == {
        (("model", "a-1"), ("provider", "a")): 0,
        (("model", "x"), ("provider", "broken")): 0,  # one failure, under the threshold
        (("model", "b-1"), ("provider", "b")): 0,
        (("model", "y"), ("provider", "broken")): 2,  # open
    }
    assert value(samples, "llm_requests_in_flight") == 0  # the scrape itself is not counted


def test_labels_stay_bounded_and_every_family_is_exposed(
    after_the_run: tuple[ServedGateway, str, Samples],
) -> None:
    _, text, _ = after_the_run
    assert "no-such-model" not in text and "some-model" not in text
    assert KEY not in text and "hi there" not in text
    exposed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    # prometheus-client adds a *_created gauge per counter and histogram (their start time)
    assert {name for name in exposed if not name.endswith("_created")} == set(METRIC_NAMES)


def test_metrics_need_no_key_and_can_be_turned_off() -> None:
    off = {**CONFIG, "server": {"master_key": KEY, "metrics": False}}
    with serve(Gateway.from_config(off)) as served:
        assert served.gateway.metrics is None
        assert httpx.get(f"{served.url}/metrics").status_code == 404
        assert ask(httpx.Client(base_url=served.url), "smart") == 200
    with serve(Gateway.from_config(CONFIG)) as served:
        # a wrong key is not even looked at
        _, samples = scrape(served, authorization="Bearer wrong")
        assert value(samples, "llm_requests_in_flight") == 0


def test_the_usage_queue_is_a_gauge_and_its_drops_a_counter(sqlite_url: str) -> None:
    config = {**CONFIG, "storage": {"url": sqlite_url}}
    with serve(Gateway.from_config(config)) as served, httpx.Client(base_url=served.url) as c:
        assert ask(c, "smart") == 200
        _, samples = scrape(served)
    assert value(samples, "llm_queue_depth", queue="usage") in (0, 1)
    assert value(samples, "llm_queue_dropped_total", queue="usage") == 0


def test_breaker_states_are_left_out_while_the_breaker_store_is_down() -> None:
    refused = free_port()
    store = {"backend": "redis", "url": f"redis://127.0.0.1:{refused}/0", "timeout_seconds": 0.1}
    config = {**CONFIG, "router": {**CONFIG["router"], "breaker_store": store}}
    with serve(Gateway.from_config(config)) as served, httpx.Client(base_url=served.url) as c:
        assert ask(c, "smart") == 200  # the store fails open
        _, samples = scrape(served)
    assert named(samples, "llm_circuit_breaker_state") == {}
    assert (
        value(
            samples,
            "llm_requests_total",
            provider="a",
            model="a-1",
            alias="smart",
            status="success",
        )
        == 1
    )
