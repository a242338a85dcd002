"""``completionStream`` through a real GraphQL WebSocket client (``gql`` with its websockets
transport), over ``graphql-transport-ws`` and the legacy ``graphql-ws``: the stream arrives
chunk by chunk, leaves the same record as the OpenAI door's stream, authenticates with the
``connection_init`` payload, and closing it cancels the upstream call."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.graphql_served import (
    MASTER,
    REPLY,
    Records,
    essentials,
    make_key,
    served_gateway,
    ws_url,
)
from tests.e2e.served import ServedGateway
from tests.fakes.gateway import fake_provider

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
STREAM = gql(
    """subscription Stream($input: CompletionInput!) {
      completionStream(input: $input) {
        id text model provider finishReason done latencyMs
        usage { inputTokens outputTokens totalTokens }
        cost { total }
      }
    }"""
)
BEARER = {"Authorization": f"Bearer {MASTER}"}
TOKENS_PER_SECOND = 20  # REPLY's six words take about 0.3 s


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[ServedGateway, Records]]:
    with served_gateway(sqlite_url, tokens_per_second=TOKENS_PER_SECOND) as pair:
        yield pair


def transport(
    served: ServedGateway,
    protocol: str,
    init: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=ws_url(served),
        init_payload=BEARER if init is None else init,
        headers=headers,
        subprotocols=[protocol],
    )


async def collect(
    served: ServedGateway, protocol: str, variables: dict[str, Any], **options: Any
) -> list[tuple[float, dict[str, Any]]]:
    """Every item of one subscription, each with when it arrived."""
    items = []
    async with Client(transport=transport(served, protocol, **options)) as session:
        async for item in session.subscribe(GraphQLRequest(STREAM, variable_values=variables)):
            items.append((time.monotonic(), item["completionStream"]))
    return items


async def closed_after(
    served: ServedGateway, protocol: str, message: dict[str, Any]
) -> tuple[int | None, str | None]:
    """The close code and reason the server answers ``message`` with, on a raw socket."""
    async with websockets.connect(ws_url(served), subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps(message))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_stream_arrives_chunk_by_chunk_then_one_item_with_the_totals(
    served: tuple[ServedGateway, Records], protocol: str
) -> None:
    gateway, records = served
    arrived = asyncio.run(collect(gateway, protocol, {"input": {"model": "smart", "prompt": "hi"}}))
    items = [item for _, item in arrived]
    *chunks, last = items
    assert len(chunks) == len(REPLY.split()) and "".join(c["text"] for c in chunks) == REPLY
    assert all(not c["done"] and c["usage"] is None and c["finishReason"] is None for c in chunks)
    assert {c["id"] for c in items} == {last["id"]} and {c["provider"] for c in items} == {"a"}
    assert last["done"] and last["text"] == "" and last["finishReason"] == "stop"
    assert last["usage"]["outputTokens"] > 0 and last["cost"]["total"] > 0
    # paced upstream: the first chunk came well before the last (not buffered to the end)
    assert arrived[-2][0] - arrived[0][0] >= 0.5 * (len(chunks) - 1) / TOKENS_PER_SECOND
    [record] = records.wait(1)
    assert (record.kind, record.status, record.alias) == ("stream", "success", "smart")


def test_the_subscription_makes_the_same_record_as_the_openai_stream(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, records = served
    key_id, secret = make_key(gateway, user="ada")
    upstream = fake_provider(gateway.gateway, "a")
    variables = {"input": {"model": "smart", "system": "s", "prompt": "p", "maxTokens": 9}}
    items = asyncio.run(
        collect(gateway, "graphql-transport-ws", variables, init={"x-api-key": secret})
    )
    graphql_request = upstream.requests[-1]
    stream = gateway.client(secret).chat.completions.create(
        model="smart",
        messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "p"}],
        max_tokens=9,
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "".join(item["text"] for _, item in items)
    sent = upstream.requests[-1]
    assert (
        sent.model_copy(update={"include_usage": graphql_request.include_usage}) == graphql_request
    )
    first, second = records.wait(2)
    assert essentials(first) == essentials(second)
    assert (first.kind, first.principal.key_id, first.principal.user) == ("stream", key_id, "ada")
    assert first.ttft_ms is not None and second.ttft_ms is not None


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_key_may_come_as_api_key_or_on_the_upgrade_request(
    served: tuple[ServedGateway, Records], protocol: str
) -> None:
    gateway, records = served
    key_id, secret = make_key(gateway, tenant="globex")
    asyncio.run(collect(gateway, protocol, {"input": {"prompt": "hi"}}, init={"api_key": secret}))
    asyncio.run(
        collect(
            gateway, protocol, {"input": {"prompt": "hi"}}, init={}, headers={"x-api-key": secret}
        )
    )
    assert [(r.principal.tenant, r.principal.key_id) for r in records.wait(2)] == [
        ("globex", key_id)
    ] * 2


@pytest.mark.parametrize(
    "init", [{}, {"Authorization": "Bearer sk-sy-unknown"}, {"x-api-key": "no"}]
)
def test_graphql_transport_ws_closes_4403_on_a_bad_key(
    served: tuple[ServedGateway, Records], init: dict[str, Any]
) -> None:
    gateway, records = served
    with pytest.raises(TransportConnectionFailed):
        asyncio.run(collect(gateway, "graphql-transport-ws", {"input": {"prompt": "a"}}, init=init))

    init_message = {"type": "connection_init", "payload": init}
    closed = asyncio.run(closed_after(gateway, "graphql-transport-ws", init_message))
    assert closed == (4403, "Forbidden")
    assert records.records == []


def test_graphql_ws_answers_connection_error_with_the_taxonomy_code(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, _ = served
    with pytest.raises(TransportServerError) as caught:
        asyncio.run(
            collect(gateway, "graphql-ws", {"input": {"prompt": "a"}}, init={"x-api-key": "no"})
        )
    assert "invalid_api_key" in str(caught.value)

    async def raw() -> dict[str, Any]:
        async with websockets.connect(ws_url(gateway), subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": "no"}}))
            return json.loads(await ws.recv())  # type: ignore[no-any-return]

    message = asyncio.run(raw())
    assert message["type"] == "connection_error"
    assert message["payload"]["extensions"] == {
        "code": "invalid_api_key",
        "type": "authentication_error",
        "status": 401,
    }


def test_a_legacy_start_before_connection_init_is_refused(
    served: tuple[ServedGateway, Records],
) -> None:
    gateway, records = served

    query = 'subscription { completionStream(input: {prompt: "a"}) { text } }'
    start = {"type": "start", "id": "1", "payload": {"query": query}}
    assert asyncio.run(closed_after(gateway, "graphql-ws", start)) == (4401, "Unauthorized")
    assert records.records == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_leaving_the_subscription_cancels_the_upstream_call(sqlite_url: str, protocol: str) -> None:
    """The client stops the operation after the first item (gql sends ``complete``, or
    ``stop`` on graphql-ws): the stream is closed at once and recorded as cancelled."""
    with served_gateway(sqlite_url, tokens_per_second=2) as (gateway, records):
        upstream = fake_provider(gateway.gateway, "a")

        async def first_item_then_leave() -> dict[str, Any]:
            async with Client(transport=transport(gateway, protocol)) as session:
                variables = {"input": {"prompt": "hi"}}
                async for item in session.subscribe(
                    GraphQLRequest(STREAM, variable_values=variables)
                ):
                    return item["completionStream"]  # type: ignore[no-any-return]
            raise AssertionError("no item")

        started = time.monotonic()
        first = asyncio.run(first_item_then_leave())
        [record] = records.wait(1)
    assert first["text"] == "one"
    assert record.status == "cancelled" and upstream.cancelled == 1
    assert time.monotonic() - started < len(REPLY.split()) / 2  # well before the end


def test_closing_the_socket_cancels_the_upstream_call(sqlite_url: str) -> None:
    with served_gateway(sqlite_url, tokens_per_second=2) as (gateway, records):
        upstream = fake_provider(gateway.gateway, "a")

        async def raw() -> dict[str, Any]:
            async with websockets.connect(
                ws_url(gateway), subprotocols=["graphql-transport-ws"]
            ) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init", "payload": BEARER}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                query = 'subscription { completionStream(input: {prompt: "a"}) { text } }'
                await ws.send(
                    json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}})
                )
                return json.loads(await ws.recv())  # type: ignore[no-any-return]
            # leaving the block closes the socket mid-stream

        first = asyncio.run(raw())
        [record] = records.wait(1)
    assert first["type"] == "next" and first["payload"]["data"]["completionStream"]["text"] == "one"
    assert record.status == "cancelled" and upstream.cancelled == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_stream_that_breaks_midway_ends_with_an_error_item(
    sqlite_url: str, protocol: str
) -> None:
    failure = {"mode": "cut_stream", "after_chunks": 2}
    with served_gateway(sqlite_url, failure=failure) as (gateway, records):
        received: list[dict[str, Any]] = []

        async def run() -> None:
            async with Client(transport=transport(gateway, protocol)) as session:
                variables = {"input": {"prompt": "hi"}}
                async for item in session.subscribe(
                    GraphQLRequest(STREAM, variable_values=variables)
                ):
                    received.append(item["completionStream"])

        with pytest.raises(TransportQueryError) as caught:
            asyncio.run(run())
        [record] = records.wait(1)
    assert [item["text"] for item in received] == ["one", " two"]
    assert caught.value.errors is not None
    extensions = caught.value.errors[0]["extensions"]
    assert extensions["code"] == record.error_type and extensions["status"] >= 500
    assert record.status == "error"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_refused_subscription_is_an_error_with_its_code(
    served: tuple[ServedGateway, Records], protocol: str
) -> None:
    gateway, records = served
    _, secret = make_key(gateway, tenant="globex")  # may use smart only
    with pytest.raises(TransportQueryError) as caught:
        asyncio.run(
            collect(
                gateway,
                protocol,
                {"input": {"model": "fast", "prompt": "a"}},
                init={"x-api-key": secret},
            )
        )
    assert caught.value.errors is not None
    assert caught.value.errors[0]["extensions"]["code"] == "model_not_allowed"
    [record] = records.wait(1)
    assert (record.kind, record.status, record.error_type) == (
        "stream",
        "error",
        "model_not_allowed",
    )


def test_an_open_socket_counts_against_max_concurrent_requests(sqlite_url: str) -> None:
    with served_gateway(sqlite_url, {"max_concurrent_requests": 1}) as (gateway, _):

        async def while_a_socket_is_open() -> tuple[int, int]:
            async with websockets.connect(
                ws_url(gateway), subprotocols=["graphql-transport-ws"]
            ) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init", "payload": BEARER}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                async with httpx.AsyncClient() as client:
                    reply = await client.post(
                        f"{gateway.url}/graphql",
                        json={"query": "{ models { id } }"},
                        headers=BEARER,
                    )
                with pytest.raises(websockets.InvalidStatus) as refused:
                    async with websockets.connect(ws_url(gateway), subprotocols=["graphql-ws"]):  # type: ignore[list-item]
                        pass
                return reply.status_code, refused.value.response.status_code

        assert asyncio.run(while_a_socket_is_open()) == (503, 403)
        after = httpx.post(
            f"{gateway.url}/graphql", json={"query": "{ models { id } }"}, headers=BEARER
        )
        assert after.status_code == 200
