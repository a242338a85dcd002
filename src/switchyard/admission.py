"""The limits-and-budget stage: what a request is charged before it is routed, and after.

``admit`` (after authorize, before the cache) builds the request's rules from every level that
applies and charges them in one step (:class:`~switchyard.limits.limiter.Limiter`):

- requests and tokens per minute (GCRA) and daily/monthly token quotas of ``limits.global``,
  the caller's tenant (``grant.limits``) and its key (``grant.key_limits``);
- dollar budgets of the alias (``models[].budget``), the tenant and the key, each holding the
  request's maximum cost: its counted input tokens plus ``max_tokens`` (else the catalog's
  maximum output, else :data:`DEFAULT_MAX_OUTPUT`) at the prices of the alias's most
  expensive deployment.

Token limits are charged with an estimate (input tokens plus ``max_tokens``); ``settle`` (when
the request ends, off the request path) corrects every token counter by real minus estimate and
every budget by real cost minus hold: a failed request gives its hold back, a cache hit
(``record.cache_hit``) costs nothing. A deployment's own limits (``deployments[].limits``) are
checked by the attempt loop through :meth:`Admission.deployment_gate`: over them the deployment
is skipped like one that answered 429, before any is asked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import (
    ConfigError,
    LimitExceeded,
    ModelNotAllowed,
    ModelUnpriced,
    QuotaExceeded,
)
from switchyard.limits.limiter import Limiter, SpendOf
from switchyard.limits.rules import (
    BUDGET,
    GCRA,
    QUOTA,
    USD_UNITS,
    Correction,
    Rule,
    Scope,
    Verdict,
    period,
    usd_units,
)
from switchyard.records.record import RequestRecord
from switchyard.routing.candidate import Candidate
from switchyard.routing.router import AliasRoute, deployment_key
from switchyard.routing.tokens import TokenCounter
from switchyard.types import (
    Budget,
    ChatRequest,
    EmbeddingRequest,
    Grant,
    Limits,
    Prices,
    Principal,
)
from switchyard.types.ratelimits import RateLimitStatus

# a deployment's prices in budget units per token: (the prices they came from, input, output)
_UNIT_PRICES: dict[str, tuple[Prices, Decimal, Decimal]] = {}
DEFAULT_MAX_OUTPUT = 4096  # tokens held when neither the request nor the catalog says
WINDOW = 60.0  # rpm and tpm


@dataclass(slots=True)
class Ticket:
    """What one admitted request was charged, so ``settle`` can correct it."""

    estimate: int  # the tokens charged to every token counter
    corrections: list[Correction]  # token counters (delta filled at settle) and budget holds
    holds: list[int]  # per correction: the budget hold (units), or -1 for a token counter
    status: RateLimitStatus | None


OwnerLevel = Literal["global", "tenant", "key"]
# whose limits to read: the level, the tenant's name or the key's id ("" for global), and its
# limits and budget
LimitOwner = tuple[OwnerLevel, str, Limits | None, Budget | None]
_PERIODS = {"rpm": "minute", "tpm": "minute", "tokens_per_day": "day", "tokens_per_month": "month"}


@dataclass(frozen=True, slots=True)
class LimitReading:
    """One limit or budget as it stands. ``name``: rpm, tpm, tokens_per_day, tokens_per_month
    or budget; ``limit`` and ``used`` in ``unit`` (requests, tokens, US dollars; ``used``
    None: unknown now); ``period``: minute (a sliding window), day, month or total;
    ``resets_in``: seconds until a day's or month's counter starts again (None: a sliding
    window, or a total budget that never resets)."""

    level: OwnerLevel
    owner: str
    name: str
    unit: Literal["requests", "tokens", "usd"]
    limit: Decimal
    used: Decimal | None
    period: str
    resets_in: float | None

    @property
    def remaining(self) -> Decimal | None:
        return None if self.used is None else max(self.limit - self.used, Decimal(0))

    @classmethod
    def of(
        cls, level: OwnerLevel, owner: str, period_name: str, rule: Rule, used: float | None
    ) -> LimitReading:
        """The reading of ``rule`` (its name ends with the limit's: "tenant 'acme' rpm")."""
        scale = USD_UNITS if rule.unit == "usd" else Decimal(1)  # budgets count 1e-10 USD
        return cls(
            level=level,
            owner=owner,
            name=rule.name.rsplit(" ", 1)[-1],
            unit=rule.unit,
            limit=Decimal(rule.limit) / scale,
            used=None if used is None else Decimal(int(used)) / scale,
            period=period_name,
            resets_in=rule.span if rule.kind != GCRA and rule.span else None,
        )


class Admission:
    def __init__(
        self,
        config: SwitchyardConfig,
        limiter: Limiter,
        tokens: TokenCounter,
        routes: Mapping[str, AliasRoute],
    ) -> None:
        self.limiter = limiter
        self.tokens = tokens
        self.global_limits = config.limits.global_
        self.alias_budgets: dict[str, Budget] = {
            alias.name: alias.budget for alias in config.models if alias.budget is not None
        }
        self.deployment_limits: dict[str, Limits] = {}
        for alias in config.models:
            for deployment in alias.deployments:
                if deployment.limits is not None:
                    self.deployment_limits.setdefault(deployment_key(deployment), deployment.limits)
        problems = [
            (f"models[{i}].budget", f"{c.key} has no price: a budget cannot be held on it")
            for i, alias in enumerate(config.models)
            if alias.budget is not None
            for c in routes[alias.name].candidates
            if c.prices is None
        ]
        if problems:
            raise ConfigError(problems)

    # -- the request path ---------------------------------------------------------------------

    async def admit_chat(
        self, principal: Principal, request: ChatRequest, route: AliasRoute
    ) -> Ticket | None:
        """Charge the request's limits and hold its budgets, or raise 429 (or 403, 503)."""
        return await self._admit(principal, route, request, None)

    async def admit_embed(
        self, principal: Principal, request: EmbeddingRequest, route: AliasRoute
    ) -> Ticket | None:
        return await self._admit(principal, route, None, request)

    def settle(self, ticket: Ticket, record: RequestRecord) -> None:
        """Correct the estimate to the real usage and the holds to the real cost (zero for a
        cache hit or a request no deployment answered); applied in the background."""
        usage, cost = record.usage, record.cost
        real_tokens = 0 if record.cache_hit or usage is None else usage.total_tokens
        real_units = 0 if record.cache_hit or cost is None else usd_units(cost.total)
        fixes: list[Correction] = []
        for fix, hold in zip(ticket.corrections, ticket.holds, strict=True):
            delta = real_units - hold if hold >= 0 else real_tokens - ticket.estimate
            if delta:
                fixes.append(fix._replace(delta=delta))
        winner = f"{record.provider}/{record.model}" if record.provider else None
        limits = self.deployment_limits.get(winner) if winner else None
        if limits is not None and limits.tpm and real_tokens != ticket.estimate:
            fixes.append(
                Correction(
                    GCRA, f"d:{winner}:tpm", real_tokens - ticket.estimate, WINDOW / limits.tpm
                )
            )
        self.limiter.correct(fixes)

    def release(self, ticket: Ticket) -> None:
        """Give back everything but the request itself (a cache hit: no tokens, no cost)."""
        fixes = [
            fix._replace(delta=-hold if hold >= 0 else -ticket.estimate)
            for fix, hold in zip(ticket.corrections, ticket.holds, strict=True)
        ]
        self.limiter.correct([f for f in fixes if f.delta])

    async def deployment_gate(self, candidate: Candidate, tokens: int) -> float | None:
        """None when ``candidate`` may be tried (charged one request and ``tokens``), else the
        seconds until its own limit has room."""
        limits = self.deployment_limits.get(candidate.key)
        if limits is None:
            return None
        name = f"deployment {candidate.key}"
        rules = _limit_rules(f"d:{candidate.key}", name, limits, tokens, time.time())
        verdict = await self.limiter.acquire(rules)
        if verdict is None or verdict.refused is None:
            return None
        return max(verdict.retry_after, 0.001)

    # -- readings (the dashboard's limits page) -------------------------------------------------

    async def readings(self, owners: Sequence[LimitOwner]) -> list[LimitReading] | None:
        """Each limit and budget of ``owners`` as it stands now: used and remaining, read from
        the same counters admissions charge (nothing is charged). None: the limits' backend
        cannot be read now."""
        now = time.time()
        rules: list[Rule] = []
        whose: list[tuple[OwnerLevel, str, str]] = []  # level, owner, period
        for level, owner, limits, budget in owners:
            if limits is not None:
                prefix = "g" if level == "global" else f"{level[0]}:{owner}"
                name = "global" if level == "global" else f"{level} {owner!r}"
                for rule in _limit_rules(prefix, name, limits, 0, now):
                    rules.append(rule)
                    whose.append((level, owner, _PERIODS[rule.name.rsplit(" ", 1)[-1]]))
            if budget is not None and level != "global":
                column: Literal["tenant", "key_id"] = "tenant" if level == "tenant" else "key_id"
                scope = _scope(column, owner, budget, now)
                rules.append(_budget_rule(scope, level, budget, 0, now))
                whose.append((level, owner, budget.period))
        used = await self.limiter.used(rules)
        if used is None:
            return None
        return [
            LimitReading.of(level, owner, period_name, rule, value)
            for (level, owner, period_name), rule, value in zip(whose, rules, used, strict=True)
        ]

    # -- rules ----------------------------------------------------------------------------------

    async def _admit(
        self,
        principal: Principal,
        route: AliasRoute,
        chat: ChatRequest | None,
        embedding: EmbeddingRequest | None,
    ) -> Ticket | None:
        levels: list[tuple[str, str, Limits]] = []
        budgets: list[tuple[Scope, str, Budget]] = []
        if self.global_limits is not None:
            levels.append(("g", "global", self.global_limits))
        grant = principal.grant
        now = time.time()
        if grant is not None:
            tenant, key_id = principal.tenant or "", principal.key_id or ""
            if grant.limits is not None:
                levels.append((f"t:{tenant}", f"tenant {tenant!r}", grant.limits))
            if grant.key_limits is not None:
                levels.append((f"k:{key_id}", f"key {key_id!r}", grant.key_limits))
            if grant.budget is not None:
                budgets.append(
                    (_scope("tenant", tenant, grant.budget, now), "tenant", grant.budget)
                )
            if grant.key_budget is not None:
                budgets.append(
                    (_scope("key_id", key_id, grant.key_budget, now), "key", grant.key_budget)
                )
            if budgets and any(c.prices is None for c in route.candidates):
                unpriced = ", ".join(c.key for c in route.candidates if c.prices is None)
                raise ModelUnpriced(
                    f"{route.alias!r} cannot be used under a budget: {unpriced} has no price",
                    param="model",
                )
        alias_budget = self.alias_budgets.get(route.alias)
        if alias_budget is not None:
            budgets.append((_scope("alias", route.alias, alias_budget, now), "alias", alias_budget))
        if not levels and not budgets and not self.deployment_limits:
            return None
        estimate, input_tokens, output = self._estimate(route.candidates, chat, embedding)
        rules: list[Rule] = []
        for prefix, name, limits in levels:
            rules.extend(_limit_rules(prefix, name, limits, estimate, now))
        holds: list[int] = [-1 if r.unit == "tokens" else -2 for r in rules]
        if budgets:
            hold = max(_max_cost(c, input_tokens, output, chat is None) for c in route.candidates)
            for scope, level, budget in budgets:
                rules.append(_budget_rule(scope, level, budget, hold, now))
                holds.append(hold)
        if not rules:
            return Ticket(estimate, [], [], None)
        verdict = await self.limiter.acquire(rules)
        if verdict is None:  # the backend is down and the policy is open
            return Ticket(estimate, [], [], None)
        if verdict.refused is not None:
            raise _refusal(rules[verdict.refused], verdict)
        corrections = [
            Correction(r.kind, r.key, 0, r.span / r.limit if r.kind == GCRA else 0.0)
            for r, h in zip(rules, holds, strict=True)
            if h != -2
        ]
        kept = [h for h in holds if h != -2]
        return Ticket(estimate, corrections, kept, _status(rules, verdict))

    def _estimate(
        self,
        candidates: Sequence[Candidate],
        chat: ChatRequest | None,
        embedding: EmbeddingRequest | None,
    ) -> tuple[int, int, int | None]:
        """(tokens to charge, input tokens, the requested max output) for the request."""
        model = candidates[0].model if candidates else ""
        if chat is not None:
            input_tokens = self.tokens.count(chat, model)
            return input_tokens + (chat.max_tokens or 0), input_tokens, chat.max_tokens
        assert embedding is not None
        input_tokens = sum(self.tokens.count_text(text, model) for text in embedding.input)
        return input_tokens, input_tokens, 0


def _limit_rules(prefix: str, name: str, limits: Limits, tokens: int, now: float) -> list[Rule]:
    """The rules of one level's limits; ``prefix`` names its counters (``t:acme``)."""
    rules: list[Rule] = []
    if limits.rpm:
        rules.append(Rule(GCRA, f"{prefix}:rpm", limits.rpm, 1, WINDOW, "requests", f"{name} rpm"))
    if limits.tpm:
        rules.append(
            Rule(GCRA, f"{prefix}:tpm", limits.tpm, tokens, WINDOW, "tokens", f"{name} tpm")
        )
    quotas: tuple[tuple[int | None, Literal["day", "month"]], ...] = (
        (limits.tokens_per_day, "day"),
        (limits.tokens_per_month, "month"),
    )
    for quota, which in quotas:
        if quota:
            pid, span, _ = period(which, now)
            rules.append(
                Rule(
                    QUOTA,
                    f"{prefix}:t{which[0]}:{pid}",
                    quota,
                    tokens,
                    span,
                    "tokens",
                    f"{name} tokens_per_{which}",
                )
            )
    return rules


def _budget_rule(scope: Scope, level: str, budget: Budget, hold: int, now: float) -> Rule:
    """The rule of one budget: its counter for the current period, holding ``hold`` units."""
    pid, span, _ = period(budget.period, now)
    key = f"b:{scope.column}:{scope.value}:{pid}"
    name = f"{level} {scope.value!r} budget"
    return Rule(BUDGET, key, _units(budget.usd), hold, span, "usd", name, scope)


@lru_cache(maxsize=1024)
def _units(usd: Decimal) -> int:
    return usd_units(usd)


def _scope(
    column: Literal["tenant", "key_id", "alias"], value: str, budget: Budget, now: float
) -> Scope:
    return Scope(column, value, period(budget.period, now)[2])


def _max_cost(candidate: Candidate, input_tokens: int, output: int | None, embed: bool) -> int:
    """The most ``candidate`` can cost this request, in budget units (1e-10 USD)."""
    prices = candidate.prices
    if prices is None:
        return 0
    per_token = _UNIT_PRICES.get(candidate.key)
    if per_token is None or per_token[0] is not prices:
        if len(_UNIT_PRICES) > 10_000:  # direct provider/model names come and go
            _UNIT_PRICES.clear()
        per_token = _UNIT_PRICES[candidate.key] = (
            prices,
            Decimal(repr(prices.input)) * USD_UNITS / 10**6,
            Decimal(repr(prices.output)) * USD_UNITS / 10**6,
        )
    if embed:
        out = 0
    elif output:
        out = output
    elif candidate.info is not None and candidate.info.max_output_tokens:
        out = candidate.info.max_output_tokens
    else:
        out = DEFAULT_MAX_OUTPUT
    return int((per_token[1] * input_tokens + per_token[2] * out).to_integral_value())


def _status(rules: Sequence[Rule], verdict: Verdict) -> RateLimitStatus | None:
    """The tightest request limit and the tightest token limit, for the headers."""
    best: dict[str, tuple[int, float, float]] = {}
    for rule, remaining, reset in zip(rules, verdict.remaining, verdict.reset, strict=False):
        if rule.unit == "usd":
            continue
        current = best.get(rule.unit)
        if current is None or remaining < current[1]:
            best[rule.unit] = (rule.limit, remaining, reset)
    if not best:
        return None
    requests, tokens = best.get("requests"), best.get("tokens")
    return RateLimitStatus(
        requests[0] if requests else None,
        int(requests[1]) if requests else None,
        requests[2] if requests else None,
        tokens[0] if tokens else None,
        int(tokens[1]) if tokens else None,
        tokens[2] if tokens else None,
    )


_LEVELS = {"g": "global", "t": "tenant", "k": "key", "tenant": "tenant", "key_id": "key"}


def _level(rule: Rule) -> str:
    """Whose limit or budget a rule is: global, tenant, key or alias (bounded, for metrics)."""
    if rule.scope is not None:
        return _LEVELS.get(rule.scope.column, rule.scope.column)
    return _LEVELS.get(rule.key.split(":", 1)[0], "deployment")


def _refusal(rule: Rule, verdict: Verdict) -> LimitExceeded | QuotaExceeded:
    level = _level(rule)
    if rule.kind == BUDGET:
        usd = Decimal(rule.limit) / USD_UNITS
        when = "for this period" if rule.span else "(it never resets)"
        return QuotaExceeded(
            f"the {rule.name} of ${usd.normalize():f} is spent {when}",
            retry_after=rule.span or None,
            level=level,
        )
    if rule.amount > rule.limit:
        return LimitExceeded(
            f"this request needs about {rule.amount} {rule.unit}, more than the {rule.name} "
            f"limit of {rule.limit} allows at all",
            param="max_tokens" if rule.unit == "tokens" else None,
            level=level,
        )
    wait = verdict.retry_after
    if rule.unit == "requests":
        status = RateLimitStatus(rule.limit, 0, wait)
    else:
        status = RateLimitStatus(limit_tokens=rule.limit, remaining_tokens=0, reset_tokens=wait)
    return LimitExceeded(
        f"rate limit exceeded: {rule.name} ({rule.limit}); retry in {wait:.3g}s",
        retry_after=wait,
        rate_limits=status,
        level=level,
    )


def authorize(principal: Principal, model: str) -> None:
    """The authorize stage: 403 ``model_not_allowed`` unless the caller's grant includes the
    model (an alias, or a ``provider/model`` name, exactly as asked)."""
    grant = principal.grant
    if grant is not None and not grant.allows(model):
        raise ModelNotAllowed(f"this API key may not use the model {model!r}", param="model")


def limits_configured(config: SwitchyardConfig) -> bool:
    """Whether any limit or budget is configured (without storage, no key can carry one)."""
    return (
        config.limits.global_ is not None
        or any(t.limits is not None or t.budget is not None for t in config.tenants)
        or any(
            a.budget is not None or any(d.limits is not None for d in a.deployments)
            for a in config.models
        )
    )


def limited(grant: Grant) -> bool:
    return any(
        part is not None
        for part in (grant.limits, grant.budget, grant.key_limits, grant.key_budget)
    )


def build_admission(
    config: SwitchyardConfig,
    tokens: TokenCounter,
    routes: Mapping[str, AliasRoute],
    spend: SpendOf | None,
) -> Admission:
    return Admission(config, Limiter(config.limits, spend=spend), tokens, routes)


__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "Admission",
    "LimitOwner",
    "LimitReading",
    "OwnerLevel",
    "Ticket",
    "authorize",
    "build_admission",
    "limited",
    "limits_configured",
]
