"""The native WebSocket (/api/v1/complete/ws) through a real WebSocket client: chunks then done,
requests in turn on one socket, cancel, closing cancels the upstream call, authentication."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from switchyard import Gateway
from switchyard.doors.native.complete import ChunkEvent, DoneEvent, ErrorBody
from switchyard.records.record import RequestRecord
from tests.e2e.served import ServedGateway, serve
from tests.fakes.gateway import fake_provider

KEY = "sk-socket-master"
WORDS = " ".join(f"w{i}" for i in range(40))


class Collect:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


CONFIG = {
    "server": {"master_key": KEY},
    "providers": {
        "a": {"type": "fake", "reply": "hello over the socket"},
        # 40 words at 20 a second: two seconds to stream, time to cancel or leave midway
        "slow": {"type": "fake", "reply": WORDS, "tokens_per_second": 20},
    },
    "models": [
        {"name": "smart", "deployments": [{"provider": "a", "model": "gpt-4.1"}]},
        {"name": "slow", "deployments": [{"provider": "slow", "model": "slow-model"}]},
    ],
}


@pytest.fixture(scope="module")
def sink() -> Collect:
    return Collect()


@pytest.fixture(scope="module")
def served(sink: Collect) -> Iterator[ServedGateway]:
    with serve(Gateway.from_config(CONFIG, sinks=[sink])) as s:
        yield s


def ws_url(served: ServedGateway) -> str:
    return served.url.replace("http://", "ws://") + "/api/v1/complete/ws"


@pytest.fixture()
def socket(served: ServedGateway) -> Iterator[ClientConnection]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with connect(ws_url(served), additional_headers=headers, open_timeout=5) as ws:
        yield ws


def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(orjson.dumps(message).decode())


def receive(ws: ClientConnection) -> dict[str, Any]:
    message = orjson.loads(ws.recv(timeout=10))
    assert isinstance(message, dict)
    return message


def until_end(ws: ClientConnection) -> list[dict[str, Any]]:
    """Messages up to and including the request's done or error."""
    messages = [receive(ws)]
    while messages[-1]["type"] == "chunk":
        messages.append(receive(ws))
    return messages


def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def test_a_request_streams_chunks_then_done_and_the_next_request_follows(
    socket: ClientConnection,
) -> None:
    for _ in range(2):  # two requests, in turn, on one socket
        send(socket, {"model": "smart", "prompt": "hi"})
        messages = until_end(socket)
        *chunks, done = messages
        assert chunks and all(m["type"] == "chunk" for m in chunks)
        for m in chunks:
            ChunkEvent.model_validate(
                {k: v for k, v in m.items() if k not in ("type", "request_id")}
            )
        assert "".join(m["text"] for m in chunks) == "hello over the socket"
        assert done["type"] == "done"
        DoneEvent.model_validate({k: v for k, v in done.items() if k not in ("type", "request_id")})
        assert (done["provider"], done["model"], done["finish_reason"]) == ("a", "gpt-4.1", "stop")
        assert done["usage"]["output_tokens"] > 0 and done["cost"]["total"] > 0
        assert len({m["request_id"] for m in messages}) == 1


def test_a_bad_request_is_an_error_message_and_the_socket_stays_usable(
    socket: ClientConnection,
) -> None:
    send(socket, {"model": "smart"})
    error = receive(socket)
    assert error["type"] == "error"
    ErrorBody.model_validate({"error": error["error"]})
    assert error["error"]["type"] == "INVALID_REQUEST"
    socket.send("{not json")
    assert receive(socket)["error"]["type"] == "INVALID_REQUEST"
    send(socket, {"prompt": "x", "model": "nope"})
    assert receive(socket)["error"]["type"] == "MODEL_NOT_FOUND"
    send(socket, {"type": "launch"})
    assert receive(socket)["error"]["param"] == "type"
    send(socket, {"model": "smart", "prompt": "still here"})
    assert until_end(socket)[-1]["type"] == "done"


def test_cancel_ends_the_request_and_closes_its_upstream_stream(
    served: ServedGateway, sink: Collect, socket: ClientConnection
) -> None:
    slow = fake_provider(served.gateway, "slow")
    before = slow.cancelled
    sink.records.clear()
    send(socket, {"model": "slow", "prompt": "go"})
    first = receive(socket)
    assert first["type"] == "chunk"
    send(socket, {"type": "cancel"})
    messages = until_end(socket)
    assert messages[-1]["type"] == "error"
    assert messages[-1]["error"]["code"] == "cancelled"
    assert messages[-1]["request_id"] == first["request_id"]
    assert len(messages) < len(WORDS.split())  # it stopped well before the end
    eventually(lambda: slow.cancelled == before + 1)
    eventually(lambda: len(sink.records) == 1)
    assert (sink.records[0].status, sink.records[0].kind) == ("cancelled", "stream")
    send(socket, {"model": "smart", "prompt": "after"})  # the socket carries on
    assert until_end(socket)[-1]["type"] == "done"


def test_a_request_sent_while_another_runs_is_refused_and_the_first_goes_on(
    socket: ClientConnection,
) -> None:
    send(socket, {"model": "slow", "prompt": "go"})
    assert receive(socket)["type"] == "chunk"
    send(socket, {"model": "smart", "prompt": "me too"})
    messages = until_end(socket)  # the refusal arrives among the first request's chunks
    refusals = [m for m in messages if m["type"] == "error"]
    assert refusals and refusals[0]["error"]["code"] == "request_in_progress"
    if messages[-1]["type"] == "error":
        messages = until_end(socket)
    assert messages[-1]["type"] == "done"
    assert messages[-1]["provider"] == "slow"


def test_closing_the_socket_cancels_the_upstream_call(served: ServedGateway, sink: Collect) -> None:
    slow = fake_provider(served.gateway, "slow")
    before = slow.cancelled
    sink.records.clear()
    with connect(ws_url(served), additional_headers={"x-api-key": KEY}) as ws:
        send(ws, {"model": "slow", "prompt": "go"})
        assert receive(ws)["type"] == "chunk"
    eventually(lambda: slow.cancelled == before + 1)
    eventually(lambda: len(sink.records) == 1)
    record = sink.records[0]
    assert (record.status, record.error_type, record.provider) == ("cancelled", "cancelled", "slow")


def test_a_browser_authenticates_with_a_first_auth_message(served: ServedGateway) -> None:
    with connect(ws_url(served)) as ws:
        send(ws, {"type": "auth", "api_key": KEY})
        send(ws, {"model": "smart", "prompt": "hi"})
        assert until_end(ws)[-1]["type"] == "done"


@pytest.mark.parametrize(
    ("headers", "first"),
    [
        ({"Authorization": "Bearer wrong"}, None),
        ({}, {"type": "auth", "api_key": "wrong"}),
        ({}, {"model": "smart", "prompt": "no credentials"}),
    ],
)
def test_a_refused_key_gets_an_error_and_the_socket_is_closed(
    served: ServedGateway, sink: Collect, headers: dict[str, str], first: dict[str, Any] | None
) -> None:
    sink.records.clear()
    with connect(ws_url(served), additional_headers=headers) as ws:
        if first is not None:
            send(ws, first)
        error = receive(ws)
        assert error["type"] == "error"
        assert error["error"]["code"] == "invalid_api_key"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert sink.records == []  # refused before any request


def test_the_socket_records_what_the_sse_route_records(
    served: ServedGateway, sink: Collect, socket: ClientConnection
) -> None:
    import httpx

    sink.records.clear()
    httpx.post(
        f"{served.url}/api/v1/complete/stream",
        json={"model": "smart", "prompt": "same"},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    send(socket, {"model": "smart", "prompt": "same"})
    until_end(socket)
    eventually(lambda: len(sink.records) == 2)
    sse, ws = sink.records
    for field in ("kind", "alias", "status", "provider", "model", "usage", "cost", "priced"):
        assert getattr(sse, field) == getattr(ws, field), field
    assert ws.request_id != sse.request_id


def test_sockets_past_the_servers_limit_are_refused() -> None:
    config = {**CONFIG, "server": {"master_key": KEY, "max_concurrent_requests": 1}}
    headers = {"x-api-key": KEY}
    with serve(config) as served, connect(ws_url(served), additional_headers=headers) as first:
        send(first, {"model": "smart", "prompt": "hi"})
        assert until_end(first)[-1]["type"] == "done"  # the first socket is open and served
        # the guard counts an open socket as a request in flight: the handshake is refused
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(served), additional_headers=headers)
        assert refused.value.response.status_code == 403
        send(first, {"model": "smart", "prompt": "again"})
        assert until_end(first)[-1]["type"] == "done"
