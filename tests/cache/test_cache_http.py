"""The response cache through the HTTP service and the official ``openai`` SDK: a cached stream
replays identically (text, tool-call arguments, finish reason, usage), plain and streamed
answers serve each other, ``x-switchyard-cache`` on every answer, ``Cache-Control`` request
headers, the stats and clear endpoints, and a hit's usage row."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from switchyard import Gateway
from switchyard.doors.http import PRINCIPAL_KEY
from switchyard.doors.native.cache import CacheDoor
from switchyard.types import Principal
from tests.databases import read_usage
from tests.e2e.cross_format import read_stream
from tests.e2e.served import ServedGateway, serve
from tests.fakes.openai_upstream import OpenAIUpstream, Reply

KEY = "sk-master-cache-test"
HELLO: Any = [{"role": "user", "content": "hello cached gateway"}]
TOOLS: Any = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
]
PIECES = ['{"loc', 'ation": "Par', "is, Fr", 'ance", "unit": "c', 'elsius"}']


def gateway_config(upstream_url: str) -> dict[str, Any]:
    prices = {"input": 0.15, "output": 0.6}
    return {
        "server": {"master_key": KEY},
        "providers": {"up": {"type": "openai", "base_url": upstream_url, "api_key": "sk-up"}},
        "models": [
            {
                "name": "gpt",
                "deployments": [{"provider": "up", "model": "gpt-4o-mini", "prices": prices}],
            },
            {
                "name": "uncached",
                "cache": {"enabled": False},
                "deployments": [{"provider": "up", "model": "gpt-4o-mini"}],
            },
        ],
        "router": {"retries": 0},
        "cache": {"backend": "memory"},
    }


@pytest.fixture(scope="module")
def served(_openai_upstream_server: OpenAIUpstream) -> Iterator[ServedGateway]:
    with serve(gateway_config(_openai_upstream_server.base_url)) as s:
        yield s


@pytest.fixture
def client(served: ServedGateway, openai_upstream: OpenAIUpstream) -> Iterator[openai.OpenAI]:
    yield served.client(KEY)
    httpx.post(f"{served.url}/api/v1/cache/clear", headers={"authorization": f"Bearer {KEY}"})


def tool_call_events() -> list[dict[str, Any]]:
    base = {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
    }
    first_delta = {
        "role": "assistant",
        "content": "Let me check. ",
        "tool_calls": [
            {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ],
    }
    return [
        {**base, "choices": [{"index": 0, "delta": first_delta, "finish_reason": None}]},
        *[
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"tool_calls": [{"index": 0, "function": {"arguments": p}}]},
                        "finish_reason": None,
                    }
                ],
            }
            for p in PIECES
        ],
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
        },
    ]


def streamed(client: openai.OpenAI, **fields: Any) -> tuple[str, Any]:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt",
        messages=HELLO,
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
        **fields,
    )
    return raw.headers.get("x-switchyard-cache"), read_stream(raw.parse())


def test_a_cached_stream_replays_identically_through_the_sdk(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    openai_upstream.script(Reply.stream(tool_call_events()))
    status1, first = streamed(client)
    status2, second = streamed(client, user="another-user")
    assert (status1, status2) == ("miss", "hit")
    assert len(openai_upstream.requests) == 1
    assert first.text == second.text == "Let me check. "
    call = {"id": "call_1", "name": "get_weather", "arguments": "".join(PIECES)}
    assert first.calls == second.calls == {0: call}
    assert first.finishes == second.finishes == ["tool_calls"]
    assert first.usage is not None and second.usage is not None
    # the same usage; only its cost differs: a hit costs nothing (see "Usage and cost")
    assert second.usage.model_dump(exclude={"cost"}) == first.usage.model_dump(exclude={"cost"})
    assert first.usage.model_dump()["cost"] > 0 and second.usage.model_dump()["cost"] == 0
    assert second.usage.prompt_tokens == 12 and second.usage.completion_tokens == 9

    raw = client.chat.completions.with_raw_response.create(model="gpt", messages=HELLO, tools=TOOLS)
    plain = raw.parse()
    assert raw.headers["x-switchyard-cache"] == "hit"
    message = plain.choices[0].message
    assert message.content == "Let me check. " and plain.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_1", "get_weather", "".join(PIECES))
    ]
    assert plain.usage is not None and plain.usage.total_tokens == 21


def test_a_plain_answer_is_replayed_as_a_stream(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt", messages=HELLO)
    assert raw.headers["x-switchyard-cache"] == "miss"
    plain = raw.parse()
    raw_stream = client.chat.completions.with_raw_response.create(
        model="gpt", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    assert raw_stream.headers["x-switchyard-cache"] == "hit"
    got = read_stream(raw_stream.parse())
    assert got.text == plain.choices[0].message.content and got.finishes == ["stop"]
    assert got.usage is not None and plain.usage is not None
    assert got.usage.total_tokens == plain.usage.total_tokens
    assert len(openai_upstream.requests) == 1


def status_of(client: openai.OpenAI, model: str = "gpt", **headers: str) -> str:
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=HELLO, extra_headers=headers
    )
    return raw.headers["x-switchyard-cache"]


def test_cache_control_request_headers_and_skip(
    client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    assert status_of(client, **{"Cache-Control": "no-store"}) == "miss"
    assert status_of(client, **{"Cache-Control": "no-store"}) == "miss"  # not stored
    assert status_of(client, **{"Cache-Control": "max-age=0, no-cache"}) == "skip"  # stored
    assert status_of(client) == "hit"
    assert status_of(client, "uncached") == "skip"
    assert len(openai_upstream.requests) == 4


def test_stats_and_clear_endpoints(
    served: ServedGateway, client: openai.OpenAI, openai_upstream: OpenAIUpstream
) -> None:
    auth = {"authorization": f"Bearer {KEY}"}
    assert httpx.post(f"{served.url}/api/v1/cache/clear", headers=auth).status_code == 200
    before = httpx.get(f"{served.url}/api/v1/cache/stats", headers=auth).json()
    status_of(client)
    status_of(client)
    stats = httpx.get(f"{served.url}/api/v1/cache/stats", headers=auth).json()
    assert stats["backend"] == "memory" and stats["all_tenants"] is True
    assert stats["hits"] - before["hits"] == 1 and stats["misses"] - before["misses"] == 1
    assert stats["entries"] == 1 and stats["bytes"] > 0 and stats["saved_usd"] > 0
    assert 0 < stats["hit_rate"] <= 1

    assert httpx.get(f"{served.url}/api/v1/cache/stats").status_code == 401
    refused = httpx.post(f"{served.url}/api/v1/cache/clear", headers=auth, json={"models": "x"})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "models"
    other = httpx.post(f"{served.url}/api/v1/cache/clear", headers=auth, json={"model": "other"})
    assert other.json() == {"cleared": 0, "model": "other", "tenant": None}
    cleared = httpx.post(f"{served.url}/api/v1/cache/clear", headers=auth, json={"model": "gpt"})
    assert cleared.status_code == 200 and cleared.json()["cleared"] == 1
    assert status_of(client) == "miss"


class AsTenant:
    """Stands in for the guard: every request is the given principal's."""

    def __init__(self, app: ASGIApp, principal: Principal) -> None:
        self.app, self.principal = app, principal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[PRINCIPAL_KEY] = self.principal
        await self.app(scope, receive, send)


def door_app(gateway: Gateway, principal: Principal) -> httpx.AsyncClient:
    door = CacheDoor(gateway)
    app = Starlette(
        routes=[
            Route("/stats", door.stats, methods=["GET"]),
            Route("/clear", door.clear, methods=["POST"]),
        ]
    )
    transport = httpx.ASGITransport(app=AsTenant(app, principal))
    return httpx.AsyncClient(transport=transport, base_url="http://door")


async def test_a_tenant_sees_its_own_stats_and_may_not_clear() -> None:
    config: dict[str, Any] = {
        "providers": {"f": {"type": "fake"}},
        "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
        "cache": {},
    }
    async with Gateway.from_config(config) as gateway:
        for tenant in ("acme", "acme", "globex"):
            await gateway.chat(
                model="smart", messages=HELLO, principal=Principal("r", tenant=tenant)
            )
        async with door_app(gateway, Principal("r", tenant="acme")) as acme:
            stats = (await acme.get("/stats", params={"tenant": "globex"})).json()
            assert (stats["tenant"], stats["hits"], stats["misses"], stats["entries"]) == (
                "acme",
                1,
                1,
                1,
            )
            refused = await acme.post("/clear")
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "admin_required"
        async with door_app(gateway, Principal.anonymous_admin()) as admin:
            stats = (await admin.get("/stats")).json()
            assert (stats["hits"], stats["misses"], stats["entries"]) == (1, 2, 2)
            one = (await admin.get("/stats", params={"tenant": "globex"})).json()
            assert (one["tenant"], one["misses"]) == ("globex", 1)
            cleared = await admin.post("/clear", json={"tenant": "globex"})
            assert cleared.json()["cleared"] == 1
    config.pop("cache")
    async with Gateway.from_config(config) as gateway:
        async with door_app(gateway, Principal.anonymous_admin()) as admin:
            answer = await admin.get("/stats")
            assert answer.status_code == 501
            assert answer.json()["error"]["code"] == "not_configured"


async def test_a_hits_usage_row_costs_nothing_and_records_the_saving(storage_url: str) -> None:
    config = {
        "providers": {"f": {"type": "fake", "reply": "four words of reply"}},
        "models": [
            {
                "name": "smart",
                "deployments": [
                    {"provider": "f", "model": "m", "prices": {"input": 1.5, "output": 2.25}}
                ],
            }
        ],
        "storage": {"url": storage_url, "flush_seconds": 0.05},
        "cache": {},
    }
    async with Gateway.from_config(config) as gateway:
        await gateway.chat(model="smart", messages=HELLO)
        await gateway.chat(model="smart", messages=HELLO)
        stream = gateway.stream(model="smart", messages=HELLO)
        async for _chunk in stream:
            pass
    (miss, hit, streamed_hit), _ = await read_usage(storage_url)
    expected = (Decimal(3 * 1.5) + Decimal(4 * 2.25)) / 10**6
    assert not miss["cache_hit"] and miss["cost_saved_usd"] is None
    assert miss["cost_usd"] == expected.quantize(Decimal("1e-10"))
    for row in (hit, streamed_hit):
        assert row["cache_hit"] and row["status"] == "success"
        assert row["cost_usd"] == Decimal(0) and row["cost_saved_usd"] == miss["cost_usd"]
        assert (row["provider"], row["model"], row["alias"]) == ("f", "m", "smart")
        assert (row["input_tokens"], row["output_tokens"], row["attempts"]) == (0, 0, 0)
        assert row["latency_ms"] > 0
    assert streamed_hit["kind"] == "stream" and streamed_hit["ttft_ms"] is not None
