"""Every log line of a full run through `switchyard serve`, at debug, in both formats, holds none
of the secrets the run configured: the provider API keys (one shaped like a key, one that only
an exact match can find), the master key, a virtual key, and a wrong key a caller sent; even
though the upstream echoes the credentials it was sent in its error bodies."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
import orjson
import pytest

from switchyard import Gateway
from switchyard.config.load import load_config
from switchyard.tenancy.settings import KeySpec
from tests.e2e.served_process import serve_process
from tests.fakes.echoing_upstream import EchoingUpstream

CONFIG = """
server: {port: PORT, master_key: MASTER, log_level: debug}
storage: {url: "sqlite+aiosqlite:///DB"}
tenants: [{name: acme}]
router: {retries: 0}
providers:
  good: {type: fake, reply: "hello there"}
  keyed: {type: openai, base_url: UPSTREAM, api_key: KEYED}
  plain: {type: openai, base_url: UPSTREAM, api_key: PLAIN}
models:
  - {name: smart, deployments: [{provider: good, model: g-1}]}
  - {name: keyed-401, deployments: [{provider: keyed, model: echo-401}]}
  - {name: keyed-500, deployments: [{provider: keyed, model: echo-500}]}
  - {name: keyed-text, deployments: [{provider: keyed, model: echo-text}]}
  - {name: plain-401, deployments: [{provider: plain, model: echo-401}]}
  - {name: plain-text, deployments: [{provider: plain, model: echo-text}]}
  - name: failover
    deployments: [{provider: plain, model: echo-500}, {provider: keyed, model: gpt-4o-mini}]
"""


def create_key(config_text: str, tmp_path: Path) -> str:
    path = tmp_path / "keys.yaml"
    path.write_text(config_text)

    async def run() -> str:
        async with Gateway(load_config(path)) as gateway:
            assert gateway.accounts is not None
            _, secret = await gateway.accounts.create_key(KeySpec(tenant="acme"))
            return secret

    return asyncio.run(run())


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_secret_reaches_any_log_line(tmp_path: Path, log_format: str) -> None:
    master = f"sk-master-{secrets.token_hex(12)}"
    keyed = f"sk-proj-{secrets.token_hex(16)}"  # shaped like a key: patterns find it too
    plain = f"plainsecret{secrets.token_hex(12)}"  # only the exact configured value finds it
    wrong = f"sk-wrong-{secrets.token_hex(12)}"
    with EchoingUpstream() as upstream:
        config = (
            CONFIG.replace("MASTER", master)
            .replace("KEYED", keyed)
            .replace("PLAIN", plain)
            .replace("UPSTREAM", upstream.base_url)
            .replace("DB", str(tmp_path / "switchyard.db"))
        )
        virtual = create_key(config.replace("PORT", "0"), tmp_path)
        args = ["--log-format", log_format]
        with serve_process(config, tmp_path, args=args) as server:
            client = httpx.Client(base_url=server.url, timeout=30)
            statuses = []

            def ask(model: str, key: str = master, **extra: object) -> None:
                body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
                headers = {"authorization": f"Bearer {key}"}
                statuses.append(
                    client.post("/v1/chat/completions", json=body, headers=headers).status_code
                )

            ask("smart")
            ask("smart", stream=True)
            for model in ("keyed-401", "keyed-500", "keyed-text", "plain-401", "plain-text"):
                ask(model)
            ask("failover")
            ask("smart", key=virtual)  # a virtual key (accepted once keys authenticate)
            ask("smart", key=wrong)
            client.get("/api/v1/providers", headers={"x-api-key": master})
            client.get("/metrics")
            assert server.stop() == 0
            log = server.process.stderr.read() if server.process.stderr else ""
    assert statuses[:2] == [200, 200] and statuses[7] == 200 and statuses[9] == 401
    assert all(status >= 400 for status in statuses[2:7])
    # the upstream really was sent the keys, and answered with them
    sent = {r.headers.get("authorization") for r in upstream.requests}
    assert {f"Bearer {keyed}", f"Bearer {plain}"} <= sent
    lines = log.splitlines()
    assert sum("non-JSON body" in line for line in lines) == 2  # the echoed header pages
    for secret in (master, keyed, plain, virtual, wrong):
        leaks = [line for line in lines if secret in line]
        assert leaks == [], f"a secret reached the log: {leaks[:3]}"
    if log_format == "json":
        parsed = [orjson.loads(line) for line in lines]  # every line is one JSON object
        requests = [p for p in parsed if p["logger"] == "switchyard.requests"]
        # every request that reached the Gateway: not the wrong key's, nor (until virtual
        # keys authenticate) the virtual key's
        assert len(requests) == 8 + (statuses[8] == 200)
        assert all(p["request_id"] and "trace_id" in p for p in requests)
        assert all({"time", "level", "logger", "message", "request_id"} <= p.keys() for p in parsed)
        # a provider's warning names the request it was written for
        warned = {p["request_id"] for p in parsed if "non-JSON body" in p["message"]}
        assert len(warned) == 2 and warned <= {p["request_id"] for p in requests}
