"""``gateway.compare`` in the library, over scripted fake providers: retries on answers that are
not the comparison's JSON (each a normal, recorded request), both orders, the model chosen by
config and overrides, structured output where the deployment takes it, and refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from switchyard import Gateway
from switchyard.comparison import ComparisonResult, UnusableAnswer
from switchyard.comparison.judge import TAG
from switchyard.errors import InvalidRequest, ModelNotAllowed, ModelNotFound, ProviderUnavailable
from switchyard.providers.fake import FakeFailure, FakeProvider, FakeSettings
from switchyard.types import ChatRequest, ChatResponse, Cost, Grant, Principal
from tests.fakes.gateway import fake_provider
from tests.fakes.sinks import Collect

TASK = "Should schools ban phones? Argue your position."
STRONG = "STRONG: Phones distract; studies of bans show better grades, so schools should ban them."
WEAK = "phones are bad i think"


def answer(winner: str, confidence: int, why: str = "It argues with evidence.") -> str:
    return orjson.dumps({"justification": why, "winner": winner, "confidence": confidence}).decode()


def config(**comparison: Any) -> dict[str, Any]:
    return {
        "providers": {"judge": {"type": "fake"}, "other": {"type": "fake"}},
        "models": [
            {
                "name": "judge",
                "deployments": [
                    {
                        "provider": "judge",
                        "model": "judge-model",
                        "prices": {"input": 1.0, "output": 2.0},
                    }
                ],
            },
            {"name": "unpriced", "deployments": [{"provider": "judge", "model": "no-price"}]},
            {"name": "plain", "deployments": [{"provider": "judge", "model": "plain-model"}]},
            {
                "name": "mixed",
                "deployments": [
                    {"provider": "judge", "model": "judge-model"},
                    {"provider": "other", "model": "plain-model"},
                ],
            },
        ],
        # a model the catalog knows without JSON response formats: instruct-and-validate
        "catalog": {
            "models": [
                {"name": "plain-model", "provider": "fake", "context_window": 8192},
                {
                    "name": "judge-model",
                    "provider": "fake",
                    "context_window": 8192,
                    "capabilities": {"json_mode": True},
                },
            ]
        },
        "router": {"retries": 0},
        "comparison": {"model": "judge", **comparison},
    }


@pytest.fixture()
def sink() -> Collect:
    return Collect()


async def gateway_for(sink: Collect, **comparison: Any) -> Gateway:
    return Gateway.from_config(config(**comparison), sinks=[sink])


@pytest.fixture()
async def gateway(sink: Collect) -> AsyncIterator[Gateway]:
    async with await gateway_for(sink) as gw:
        yield gw


async def compare(gateway: Gateway, **fields: Any) -> ComparisonResult:
    return await gateway.compare(user_prompt=TASK, essay_a=STRONG, essay_b=WEAK, **fields)


async def test_a_broken_answer_is_asked_again_and_every_call_is_counted(
    gateway: Gateway, sink: Collect
) -> None:
    judge = fake_provider(gateway, "judge")
    judge.script('{"justification": "Essay A is', answer("essay_a", 80))
    result = await compare(gateway, correlation_id="assess-42")
    assert judge.calls == 2 and result.calls == 2
    assert (result.winner, result.confidence) == ("essay_a", 0.8)
    assert result.justification == "It argues with evidence."
    assert (result.provider, result.model) == ("judge", "judge-model")
    first, second = judge.requests
    # the usage and the cost add up both calls (each one the gateway's own answer)
    records = [r for r in sink.records if r.kind == "chat"]
    assert len(records) == 2 and all(r.status == "success" for r in records)
    assert result.usage == records[0].usage + records[1].usage  # type: ignore[operator]
    assert records[0].cost is not None and records[1].cost is not None
    assert result.cost == records[0].cost + records[1].cost
    assert result.cost.total > 0
    # structured output: the deployment takes JSON schemas
    for request in (first, second):
        assert request.response_format is not None
        assert request.response_format.type == "json_schema"
    # the retry quotes the refused answer and says why
    assert second.messages[2].text() == '{"justification": "Essay A is'
    assert "not a JSON object" in second.messages[3].text()
    # the correlation id is every call's request id (usage rows, events), and echoed
    assert result.correlation_id == "assess-42"
    assert {r.request_id for r in records} == {"assess-42"}
    assert all(TAG in r.principal.tags for r in records)


async def test_after_max_retries_the_comparison_fails_as_a_bad_upstream_answer(
    sink: Collect,
) -> None:
    async with await gateway_for(sink, max_retries=1) as gateway:
        judge = fake_provider(gateway, "judge")
        judge.script("no JSON here", '{"winner": "essay_a"}', answer("essay_a", 90))
        with pytest.raises(UnusableAnswer) as failed:
            await compare(gateway)
        assert judge.calls == 2  # 1 + max_retries; the third answer was never asked for
        assert failed.value.status_code == 502
        assert "2 attempt(s)" in failed.value.message
        assert "no 'justification'" in failed.value.message
        assert failed.value.provider == "judge"


async def test_an_unpriced_call_makes_the_total_cost_unknown(gateway: Gateway) -> None:
    fake_provider(gateway, "judge").script(answer("essay_b", 55))
    result = await compare(gateway, model_override="unpriced")
    assert result.winner == "essay_b" and result.cost is None  # never a fake 0


async def test_without_json_schema_support_the_prompt_alone_asks_for_the_json(
    gateway: Gateway,
) -> None:
    judge = fake_provider(gateway, "judge")
    fenced = f"Sure! Here is my verdict:\n```json\n{answer('essay_a', 65)}\n```"
    judge.script(fenced, fenced)
    for alias in ("plain", "mixed"):  # mixed: one deployment without; asking would narrow it
        result = await compare(gateway, model_override=alias)
        assert result.winner == "essay_a" and result.confidence == 0.65
        assert judge.requests[-1].response_format is None
        assert '"winner"' in judge.requests[-1].messages[1].text()


class FairJudge(FakeProvider):
    """Prefers the essay marked STRONG wherever it is shown; ``biased`` instead always picks
    the essay shown first. Answers only once both orders are in flight together."""

    def __init__(self, name: str, *, biased: bool = False) -> None:
        super().__init__(name, FakeSettings())
        self.biased = biased
        self.in_flight = 0
        self.together = asyncio.Event()

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.in_flight += 1
        if self.in_flight == 2:
            self.together.set()
        await asyncio.wait_for(self.together.wait(), timeout=5)
        shown_first = request.messages[1].text().split("<essay_a>")[1].split("</essay_a>")[0]
        if self.biased:
            self.script(answer("essay_a", 90 if STRONG in shown_first else 60, "first is best"))
        else:
            self.script(answer("essay_a" if STRONG in shown_first else "essay_b", 80))
        return await super().chat(request)


@pytest.mark.parametrize("biased", [False, True])
async def test_both_orders_run_together_and_report_disagreement(
    sink: Collect, biased: bool
) -> None:
    judge = FairJudge("judge", biased=biased)
    gateway = Gateway(
        Gateway.from_config(config(both_orders=True)).config,
        providers={"judge": judge},
        sinks=[sink],
    )
    async with gateway:
        result = await compare(gateway)
    assert judge.calls == 2 and result.calls == 2
    assert result.winner == "essay_a"
    if biased:  # A/B: essay_a (the strong one) with 90; B/A: essay_b (shown first) with 60
        assert result.position_consistent is False
        assert result.confidence == pytest.approx(0.65)
        assert result.justification == "first is best"
    else:
        assert result.position_consistent is True
        assert result.confidence == pytest.approx(0.8)
    calls = [r.usage for r in sink.records if r.usage is not None]
    assert len(calls) == 2 and result.usage == calls[0] + calls[1]


async def test_overrides_choose_the_model_and_the_temperature(sink: Collect) -> None:
    async with await gateway_for(sink, temperature=0.2) as gateway:
        judge, other = fake_provider(gateway, "judge"), fake_provider(gateway, "other")
        judge.script(*[answer("essay_a", 70)] * 3)
        other.script(*[answer("essay_b", 70)] * 3)

        await compare(gateway)
        assert judge.requests[-1].model == "judge-model"
        assert judge.requests[-1].temperature == 0.2

        result = await compare(gateway, provider="other", model_override="any-model")
        assert (result.provider, result.model) == ("other", "any-model")
        assert sink.records[-1].alias == "other/any-model"
        await compare(gateway, provider="other", model_override="other/any-model")
        assert sink.records[-1].alias == "other/any-model"  # not other/other/any-model

        result = await compare(gateway, model_override="mixed", temperature_override=1.3)
        assert result.provider == "judge" and judge.requests[-1].temperature == 1.3

        # provider alone: the comparison model's deployment at that provider
        result = await compare(gateway, provider="judge")
        assert sink.records[-1].alias == "judge/judge-model" and result.winner == "essay_a"

        result = await compare(gateway, provider="other", model_override="mixed-other")
        assert result.winner == "essay_b"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"provider": "nobody"}, "provider"),
        ({"provider": "other"}, "provider"),  # the judge alias has no deployment there
        ({"essay_a": "x" * 101}, "essay_a"),  # comparison.max_essay_chars
        ({"essay_b": "   "}, "essay_b"),
        ({"user_prompt": ""}, "user_prompt"),
        ({"temperature_override": 2.5}, "temperature_override"),
        ({"correlation_id": "a\nb"}, "correlation_id"),
        ({"correlation_id": "x" * 129}, "correlation_id"),
        ({"rubric": "extra"}, "rubric"),
    ],
)
async def test_invalid_fields_are_refused_by_name_and_recorded(
    sink: Collect, fields: dict[str, Any], param: str
) -> None:
    async with await gateway_for(sink, max_essay_chars=100) as gateway:
        request = {"user_prompt": TASK, "essay_a": "fine", "essay_b": "also fine", **fields}
        with pytest.raises(InvalidRequest) as refused:
            await gateway.compare(request)
        assert refused.value.param == param
        assert fake_provider(gateway, "judge").calls == 0
        assert len(sink.records) == 1 and sink.records[0].status == "error"


async def test_an_unknown_model_and_a_key_without_the_grant_are_refused(
    gateway: Gateway, sink: Collect
) -> None:
    with pytest.raises(ModelNotFound) as unknown:
        await compare(gateway, model_override="nope")
    assert unknown.value.param == "model_override"
    key = Principal(
        request_id="r1", tenant="acme", key_id="k1", grant=Grant(models=frozenset({"plain"}))
    )
    with pytest.raises(ModelNotAllowed):  # comparison.model is "judge": not granted
        await compare(gateway, principal=key)
    fake_provider(gateway, "judge").script(answer("essay_a", 60))
    result = await compare(gateway, principal=key, model_override="plain")
    assert result.correlation_id == "r1"  # none sent: the request's own id
    assert [r.status for r in sink.records] == ["error", "error", "success"]
    assert sink.records[1].principal.tenant == "acme"


async def test_a_comparison_request_object_and_keyword_fields_combine(gateway: Gateway) -> None:
    from switchyard.comparison import ComparisonRequest

    fake_provider(gateway, "judge").script(answer("essay_b", 51))
    request = ComparisonRequest(user_prompt=TASK, essay_a=WEAK, essay_b=STRONG)
    result = await gateway.compare(request, correlation_id="c-1")
    assert (result.winner, result.correlation_id) == ("essay_b", "c-1")
    assert isinstance(result.cost, Cost)


async def test_when_one_order_fails_the_comparison_fails_with_that_error(sink: Collect) -> None:
    async with await gateway_for(sink, both_orders=True) as gateway:
        judge = fake_provider(gateway, "judge")
        judge.script(FakeFailure(status=503, body="overloaded"), answer("essay_a", 80))
        with pytest.raises(ProviderUnavailable) as failed:  # itself, not an exception group
            await compare(gateway)
        assert "overloaded" in failed.value.message
