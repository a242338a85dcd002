"""The served gateway authenticates once, hands the caller on as a Principal, and logs each
request as one line (and its start as another)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from switchyard import Gateway
from switchyard.records.record import RequestRecord
from tests.e2e.served import serve
from tests.e2e.served_process import serve_process

KEY = "sk-master-test"
CONFIG = {
    "server": {"master_key": KEY},
    "providers": {"a": {"type": "fake", "reply": "hi there"}},
    "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "a-model"}]}],
}
HELLO = {"model": "smart", "messages": [{"role": "user", "content": "secret prompt"}]}


class Collect:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


def test_the_principal_reaches_the_gateway_with_the_request_id() -> None:
    sink = Collect()
    with serve(Gateway.from_config(CONFIG, sinks=[sink])) as served:
        headers = {"authorization": f"Bearer {KEY}", "x-request-id": "req-42"}
        answer = httpx.post(f"{served.base_url}/chat/completions", json=HELLO, headers=headers)
        assert answer.status_code == 200 and answer.headers["x-request-id"] == "req-42"
        streamed = httpx.post(
            f"{served.base_url}/chat/completions",
            json={**HELLO, "stream": True},
            headers={"x-api-key": KEY, "x-request-id": "req-43"},
        )
        assert streamed.text.endswith("data: [DONE]\n\n")
    assert [(r.request_id, r.kind, r.principal.admin) for r in sink.records] == [
        ("req-42", "chat", True),
        ("req-43", "stream", True),
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/api/v1/providers"),
        ("GET", "/api/v1/circuit-breakers"),
        ("POST", "/api/v1/providers/a/test"),
    ],
)
def test_one_guard_refuses_a_wrong_key_on_every_route(method: str, path: str) -> None:
    sink = Collect()
    with serve(Gateway.from_config(CONFIG, sinks=[sink])) as served:
        answer = httpx.request(
            method,
            served.url + path,
            json=HELLO if method == "POST" else None,
            headers={"authorization": "Bearer wrong", "x-request-id": "req-7"},
        )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_api_key"
    assert answer.headers["x-request-id"] == "req-7"
    assert sink.records == []  # refused before any door or the Gateway


def test_serve_announces_itself_and_logs_one_line_per_request(tmp_path: Path) -> None:
    config = """
server: {port: PORT}
providers: {a: {type: fake, reply: "hi there"}}
models: [{name: smart, deployments: [{provider: a, model: a-model}]}]
"""
    with serve_process(config, tmp_path) as server:
        answer = httpx.post(
            f"{server.url}/v1/chat/completions", json=HELLO, headers={"x-request-id": "req-1"}
        )
        assert answer.status_code == 200
        assert server.stop() == 0
        log = server.process.stderr.read() if server.process.stderr else ""
    assert "Switchyard listening on http://127.0.0.1:" in log
    assert "aliases: smart; providers: a" in log
    [line] = [x for x in log.splitlines() if "request_id=req-1" in x]
    assert "INFO switchyard.requests: request_id=req-1 kind=chat status=success" in line
    assert "deployment=a/a-model" in line
    assert "secret prompt" not in log and "hi there" not in log


def test_log_level_warning_keeps_requests_quiet(tmp_path: Path) -> None:
    config = """
server: {port: PORT, log_level: warning}
providers: {a: {type: fake}}
models: [{name: smart, deployments: [{provider: a, model: a-model}]}]
"""
    with serve_process(config, tmp_path) as server:
        httpx.post(f"{server.url}/v1/chat/completions", json=HELLO)
        assert server.stop() == 0
        log = server.process.stderr.read() if server.process.stderr else ""
    assert "request_id=" not in log and "listening on" not in log
