"""``server.trusted_proxies``: the client address comes from ``X-Forwarded-For`` only when the
peer is a trusted proxy (the rightmost address that is not one), else it is the peer's."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.served import serve
from tests.e2e.served_process import serve_process

from switchyard import Gateway
from switchyard.records.record import RequestRecord
from switchyard.records.sinks import describe, fields
from switchyard.server.client_address import MAX_HOPS, ClientAddress


def resolver(*trusted: str) -> ClientAddress:
    return ClientAddress(ipaddress.ip_network(t) for t in trusted)


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.5", [b"203.0.113.7"], "203.0.113.7"),  # through one trusted proxy
        ("10.0.0.5", [b"6.6.6.6, 203.0.113.7"], "203.0.113.7"),  # the client's own claim: no
        ("10.0.0.5", [b"203.0.113.7, 10.0.0.9"], "203.0.113.7"),  # two trusted hops
        ("10.0.0.5", [b"203.0.113.7", b"10.0.0.9"], "203.0.113.7"),  # two header lines
        ("10.0.0.5", [b"10.0.0.8, 10.0.0.9"], "10.0.0.8"),  # every hop trusted: the leftmost
        ("10.0.0.5", [b"<script>, 10.0.0.9"], "10.0.0.9"),  # not an address: the walk ends
        ("10.0.0.5", [b"[2001:db8::1]:4711"], "2001:db8::1"),
        ("10.0.0.5", [b"203.0.113.7:55000"], "203.0.113.7"),
        ("10.0.0.5", [], "10.0.0.5"),  # no header: the proxy itself
        ("198.51.100.1", [b"203.0.113.7"], "198.51.100.1"),  # the peer is not trusted
    ],
)
def test_the_rightmost_untrusted_address_is_the_client(
    peer: str, forwarded: list[bytes], client: str
) -> None:
    assert resolver("10.0.0.0/8").resolve(peer, forwarded) == client


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert resolver().resolve("127.0.0.1", [b"203.0.113.7"]) == "127.0.0.1"


def test_a_long_header_is_read_only_from_its_right_end() -> None:
    hops = ", ".join(["10.0.0.1"] * (MAX_HOPS * 10) + ["10.0.0.2"])
    assert resolver("10.0.0.0/8").resolve("10.0.0.5", [hops.encode()]) == "10.0.0.1"


class Collect:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


def config(*trusted: str) -> dict[str, Any]:
    return {
        "server": {"trusted_proxies": list(trusted)},
        "providers": {"a": {"type": "fake", "reply": "hi"}},
        "models": [{"name": "smart", "deployments": [{"provider": "a", "model": "m"}]}],
    }


@pytest.mark.parametrize(
    ("trusted", "client"),
    [(["127.0.0.1"], "203.0.113.7"), (["10.0.0.0/8"], "127.0.0.1"), ([], "127.0.0.1")],
)
def test_the_served_request_carries_the_client_address_into_its_log_line(
    trusted: list[str], client: str
) -> None:
    sink = Collect()
    with serve(Gateway.from_config(config(*trusted), sinks=[sink])) as served:
        answer = httpx.post(
            f"{served.url}/v1/chat/completions",
            json={"model": "smart", "messages": [{"role": "user", "content": "x"}]},
            headers={"x-forwarded-for": "6.6.6.6, 203.0.113.7"},
        )
        assert answer.status_code == 200
    [record] = sink.records
    assert record.principal.client == client
    assert f" client={client} " in describe(record)
    assert fields(record)["client"] == client


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    from switchyard.errors import ConfigError

    with pytest.raises(ConfigError, match=r"server\.trusted_proxies\[0\]"):
        Gateway.from_config(config("proxy.example.com"))


@pytest.mark.parametrize(
    ("trusted", "client"), [("[127.0.0.1]", "203.0.113.7"), ("[]", "127.0.0.1")]
)
def test_serve_believes_x_forwarded_for_only_from_trusted_proxies(
    tmp_path: Path, trusted: str, client: str
) -> None:
    """uvicorn alone would believe the header from 127.0.0.1: serve turns that off."""
    served = f"""
server: {{port: PORT, trusted_proxies: {trusted}}}
providers: {{a: {{type: fake}}}}
models: [{{name: smart, deployments: [{{provider: a, model: m}}]}}]
"""
    with serve_process(served, tmp_path) as server:
        answer = httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"model": "smart", "messages": [{"role": "user", "content": "x"}]},
            headers={"x-forwarded-for": "203.0.113.7", "x-request-id": "req-xff"},
        )
        assert answer.status_code == 200
        assert server.stop() == 0
        log = server.process.stderr.read() if server.process.stderr else ""
    [line] = [x for x in log.splitlines() if "request_id=req-xff" in x]
    assert f" client={client} " in line


def test_a_virtual_key_request_carries_the_client_address_too(sqlite_url: str) -> None:
    """The key ring builds its principals by hand (the hot path): the client slot is there."""
    sink = Collect()
    settings = {
        **config("127.0.0.1"),
        "storage": {"url": sqlite_url},
        "tenants": [{"name": "acme"}],
    }
    with serve(Gateway.from_config(settings, sinks=[sink])) as served:
        key = httpx.post(f"{served.url}/api/v1/admin/keys", json={"tenant": "acme"}).json()["key"]
        for _ in range(2):  # looked up, then from the key ring's cache
            answer = httpx.post(
                f"{served.url}/v1/chat/completions",
                json={"model": "smart", "messages": [{"role": "user", "content": "x"}]},
                headers={"authorization": f"Bearer {key}", "x-forwarded-for": "203.0.113.9"},
            )
            assert answer.status_code == 200
    assert [(r.principal.tenant, r.principal.client) for r in sink.records] == [
        ("acme", "203.0.113.9"),
        ("acme", "203.0.113.9"),
    ]
