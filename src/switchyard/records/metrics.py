"""Prometheus metrics: a record sink, plus gauges the server sets when it is scraped.

The names are the ones teams moving from their own LLM services already scrape (issue 11), so
their dashboards keep working. Every label value comes from a bounded set, never from what a
caller typed:

- ``alias``: a configured alias, else ``none`` (the caller named a deployment, or nothing
  that exists);
- ``provider``/``model``: a configured deployment as it is; a configured provider with a model
  no alias lists gets ``model="other"``; anything else ``other``/``other``; ``none``/``none``
  when no deployment answered (the request failed before one did, or all failed);
- ``status``: ``success``, ``cancelled`` or the error's taxonomy code
  (:mod:`switchyard.errors`); ``outcome``: ``ok``, ``abandoned`` or a taxonomy code;
- ``tenant``: the principal's tenant (a key's tenant exists: the operator made it), at most
  :data:`MAX_TENANTS` of them, then ``other``;
- ``guardrail``: a configured guardrail's name (an alias's or a tenant's), at most
  :data:`MAX_GUARDRAILS` of them, then ``other``; ``on`` and ``action`` their few values.

:meth:`Metrics.emit` runs once per request on the event loop, so every labelled child it
touches is made once and kept (``.labels()`` hashes and formats its arguments on every call).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from switchyard.records.record import AttemptRecord, RequestRecord

NONE, OTHER = "none", "other"
MAX_TENANTS = 1000  # distinct tenant label values; past it, "other"
MAX_GUARDRAILS = 1000  # distinct guardrail label triples; past it, "other"
MAX_CACHED = 4096  # raw label tuples remembered; past it, folded on every call (still bounded)

DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LIMIT_LEVELS = ("global", "tenant", "key")  # llm_rate_limited_total{level}
BUDGET_LEVELS = ("key", "tenant", "alias")  # llm_budget_rejections_total{level}
OVERHEAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

METRIC_NAMES = (  # what GET /metrics exposes (the dashboard test checks against it)
    "llm_requests_total",
    "llm_response_duration_seconds",
    "llm_time_to_first_token_seconds",
    "llm_tokens_used_total",
    "llm_cost_dollars_total",
    "llm_tenant_cost_dollars_total",
    "llm_circuit_breaker_state",
    "llm_attempts_total",
    "llm_requests_in_flight",
    "llm_queue_depth",
    "llm_queue_dropped_total",
    "llm_cache_requests_total",
    "llm_rate_limited_total",
    "llm_budget_rejections_total",
    "llm_guardrail_decisions_total",
    "switchyard_overhead_seconds",
)


class _Deployment:
    """The children of one (provider, model) label pair, made once."""

    __slots__ = (
        "attempts",
        "cached",
        "cost",
        "duration",
        "input",
        "labels",
        "output",
        "overhead",
        "reasoning",
        "ttft",
    )

    def __init__(self, metrics: Metrics, provider: str, model: str) -> None:
        self.labels = (provider, model)
        self.duration = metrics.duration.labels(provider, model)
        self.ttft = metrics.ttft.labels(provider, model)
        self.overhead = metrics.overhead
        self.cost = metrics.cost.labels(provider, model)
        tokens = metrics.tokens
        self.input = tokens.labels(provider, model, "input")
        self.output = tokens.labels(provider, model, "output")
        self.cached = tokens.labels(provider, model, "cached")
        self.reasoning = tokens.labels(provider, model, "reasoning")
        self.attempts: dict[str, Any] = {}


class Metrics:
    """The metric families in their own registry (two Gateways in one process do not collide),
    and a :class:`~switchyard.records.sinks.RecordSink` that counts each request."""

    def __init__(
        self,
        *,
        aliases: Iterable[str],
        deployments: Iterable[tuple[str, str]],
        providers: Iterable[str],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._aliases = frozenset(aliases)
        self._deployments_known = frozenset(deployments)
        self._providers = frozenset(providers)
        r = self.registry
        self.requests = Counter(
            "llm_requests_total",
            "Requests, by the deployment that answered and how they ended",
            ["provider", "model", "alias", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "llm_response_duration_seconds",
            "Whole request, as the caller waited (streams: to the last chunk)",
            ["provider", "model"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "llm_time_to_first_token_seconds",
            "Streams: request start to the first chunk",
            ["provider", "model"],
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "llm_tokens_used_total",
            "Tokens (input, output, cached input, reasoning), abandoned hedges included",
            ["provider", "model", "type"],
            registry=r,
        )
        self.cost = Counter(
            "llm_cost_dollars_total",
            "US dollars of priced deployments, abandoned hedges included",
            ["provider", "model"],
            registry=r,
        )
        self.tenant_cost = Counter(
            "llm_tenant_cost_dollars_total",
            "US dollars per tenant (requests with a virtual key)",
            ["tenant"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "llm_circuit_breaker_state",
            "Circuit breaker per configured deployment: 0 closed, 1 half-open, 2 open",
            ["provider", "model"],
            registry=r,
            multiprocess_mode="livemax",  # several workers: open if any worker sees it open
        )
        self.attempts = Counter(
            "llm_attempts_total",
            "Every attempt on a deployment: ok, abandoned (a hedge that lost) or the error",
            ["provider", "model", "outcome"],
            registry=r,
        )
        self.in_flight = Gauge(
            "llm_requests_in_flight",
            "Requests being served (several workers: by all of them)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.queue_depth = Gauge(
            "llm_queue_depth",
            "Records waiting in a background queue",
            ["queue"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.queue_dropped = Counter(
            "llm_queue_dropped_total",
            "Records a full background queue refused",
            ["queue"],
            registry=r,
        )
        self.overhead = Histogram(
            "switchyard_overhead_seconds",
            "The gateway's own time in a plain request: total minus upstream",
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )
        cache = Counter(
            "llm_cache_requests_total",
            "Chat requests by response-cache result: hit, miss, or skip (not looked up)",
            ["result"],
            registry=r,
        )
        self._cache = {result: cache.labels(result) for result in ("hit", "miss", "skip")}
        limited = Counter(
            "llm_rate_limited_total",
            "Requests refused by one of the gateway's own limits, by whose limit it was",
            ["level"],
            registry=r,
        )
        self._limited = {level: limited.labels(level) for level in LIMIT_LEVELS}
        budget = Counter(
            "llm_budget_rejections_total",
            "Requests refused because a dollar budget was spent, by whose budget it was",
            ["level"],
            registry=r,
        )
        self._budget = {level: budget.labels(level) for level in BUDGET_LEVELS}
        self.guardrail_decisions = Counter(
            "llm_guardrail_decisions_total",
            "Guardrails that fired, once per request: by name, side (input, output) and "
            "action (block, redact, warn)",
            ["guardrail", "on", "action"],
            registry=r,
        )
        self._guardrails: dict[tuple[str, str, str], Any] = {}
        self._slots: dict[tuple[str, str], _Deployment] = {}  # by folded labels
        self._by_deployment: dict[tuple[str | None, str | None], _Deployment] = {}  # raw
        self._by_key: dict[str, _Deployment] = {}
        self._requests: dict[tuple[str | None, str | None, str, str], Any] = {}
        self._tenants: dict[str, Any] = {}
        self._dropped: dict[str, float] = {}

    # -- the record sink (once per request) --------------------------------------------------

    def emit(self, record: RequestRecord) -> None:
        provider, model = record.provider, record.model
        slot = self._by_deployment.get((provider, model))
        if slot is None:
            slot = self._deployment(provider, model)
        status: str = record.status
        if status != "success":
            status = record.error_type or status
        key = (provider, model, record.alias, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._request_counter(slot, key)
        counter.inc()
        if provider is not None:
            slot.duration.observe(record.latency_ms / 1000.0)
            if record.ttft_ms is not None:
                slot.ttft.observe(record.ttft_ms / 1000.0)
            elif status == "success" and not record.cache_hit:
                # streams' upstream time ends at the first chunk: only plain requests count
                slot.overhead.observe(max(record.latency_ms - record.upstream_ms, 0.0) / 1000.0)
        spent = 0.0
        usage = record.usage
        if usage is not None:
            self._count_tokens(slot, usage.input_tokens, usage.output_tokens, usage)
        if record.cost is not None and record.cost.total:
            spent = record.cost.total
            slot.cost.inc(spent)
        for attempt in record.attempts:
            spent += self._count_attempt(attempt)
        if record.cache_result is not None:
            self._cache[record.cache_result].inc()
        if record.refused_by is not None:
            budget = record.error_type == "insufficient_quota"
            refusals = (self._budget if budget else self._limited).get(record.refused_by)
            if refusals is not None:
                refusals.inc()
        for decision in record.guardrails:
            child = self._guardrails.get(decision)
            if child is None:
                child = self._guardrail(decision)
            child.inc()
        tenant = record.principal.tenant
        if tenant is not None and spent:
            child = self._tenants.get(tenant)
            if child is None:
                child = self._tenant(tenant)
            child.inc(spent)

    def _count_attempt(self, attempt: AttemptRecord) -> float:
        """Count one attempt; an abandoned hedge's tokens and dollars: returns its cost."""
        slot = self._by_key.get(attempt.deployment)
        if slot is None:
            slot = self._deployment_key(attempt.deployment)
        outcome = attempt.error_type or attempt.outcome
        child = slot.attempts.get(outcome)
        if child is None:
            child = slot.attempts[outcome] = self.attempts.labels(*slot.labels, outcome)
        child.inc()
        spent = 0.0
        if attempt.usage is not None:
            usage = attempt.usage
            self._count_tokens(slot, usage.input_tokens, usage.output_tokens, usage)
        if attempt.cost is not None and attempt.cost.total:
            spent = attempt.cost.total
            slot.cost.inc(spent)
        return spent

    @staticmethod
    def _count_tokens(slot: _Deployment, tokens_in: int, tokens_out: int, usage: Any) -> None:
        if tokens_in:
            slot.input.inc(tokens_in)
        if tokens_out:
            slot.output.inc(tokens_out)
        if usage.cached_input_tokens:
            slot.cached.inc(usage.cached_input_tokens)
        if usage.reasoning_tokens:
            slot.reasoning.inc(usage.reasoning_tokens)

    # -- label folding (once per distinct raw value) -----------------------------------------

    def _fold(self, provider: str | None, model: str | None) -> tuple[str, str]:
        if provider is None or model is None:
            return NONE, NONE
        if (provider, model) in self._deployments_known:
            return provider, model
        if provider in self._providers:
            return provider, OTHER
        return OTHER, OTHER

    def _slot(self, labels: tuple[str, str]) -> _Deployment:
        slot = self._slots.get(labels)
        if slot is None:
            slot = self._slots[labels] = _Deployment(self, *labels)
        return slot

    def _deployment(self, provider: str | None, model: str | None) -> _Deployment:
        slot = self._slot(self._fold(provider, model))
        if len(self._by_deployment) < MAX_CACHED:
            self._by_deployment[(provider, model)] = slot
        return slot

    def _deployment_key(self, key: str) -> _Deployment:
        provider, _, model = key.partition("/")
        slot = self._slot(self._fold(provider, model or None))
        if len(self._by_key) < MAX_CACHED:
            self._by_key[key] = slot
        return slot

    def _request_counter(
        self, slot: _Deployment, key: tuple[str | None, str | None, str, str]
    ) -> Any:
        alias = key[2] if key[2] in self._aliases else NONE
        child = self.requests.labels(*slot.labels, alias, key[3])
        if len(self._requests) < MAX_CACHED:
            self._requests[key] = child
        return child

    def _tenant(self, tenant: str) -> Any:
        if len(self._tenants) >= MAX_TENANTS:
            return self.tenant_cost.labels(OTHER)
        child = self._tenants[tenant] = self.tenant_cost.labels(tenant)
        return child

    def _guardrail(self, decision: tuple[str, str, str]) -> Any:
        if len(self._guardrails) >= MAX_GUARDRAILS:
            return self.guardrail_decisions.labels(OTHER, *decision[1:])
        child = self._guardrails[decision] = self.guardrail_decisions.labels(*decision)
        return child

    # -- at scrape time ----------------------------------------------------------------------

    def set_breakers(self, states: Iterable[tuple[str, str, str]] | None) -> None:
        """``(provider, model, state)`` of every configured deployment's breaker; None: the
        states are unknown (a shared breaker store is down), so none is shown rather than
        stale ones."""
        if states is None:
            self.breaker_state.clear()
            return
        for provider, model, state in states:
            self.breaker_state.labels(provider, model).set(BREAKER_STATES.get(state, 0))

    def set_in_flight(self, count: int) -> None:
        self.in_flight.set(count)

    def set_queue(self, queue: str, depth: int, dropped: int) -> None:
        """A background queue's depth now and its drop count so far (a counter: only the
        increase since the last scrape is added)."""
        self.queue_depth.labels(queue).set(depth)
        child = self.queue_dropped.labels(queue)
        grown = dropped - self._dropped.get(queue, 0)
        if grown > 0:
            child.inc(grown)
        self._dropped[queue] = max(dropped, self._dropped.get(queue, 0))


__all__ = ["BREAKER_STATES", "METRIC_NAMES", "Metrics"]
