"""Off by default and free when off (no OpenTelemetry import at all, checked in a fresh
interpreter); on through the config or ``OTEL_SDK_DISABLED=false``, exporting as the standard
``OTEL_TRACES_EXPORTER`` says."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchyard.errors import ConfigError
from switchyard.telemetry.exporters import (
    OTLP_PACKAGE,
    JsonLinesExporter,
    build_tracer_provider,
    exporters,
)

SRC = Path(__file__).resolve().parents[2] / "src"
CONFIG = {
    "providers": {"f": {"type": "fake", "reply": "one two"}},
    "models": [{"name": "smart", "deployments": [{"provider": "f", "model": "m"}]}],
}
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
SCRIPT = f"""
import asyncio, sys
import httpx
from switchyard import Gateway
from switchyard.server.app import create_app

HI = [{{"role": "user", "content": "hi"}}]

async def main():
    gateway = Gateway.from_config({CONFIG!r})
    async with gateway:
        await gateway.chat(model="smart", messages=HI)
        async for _ in gateway.stream(model="smart", messages=HI):
            pass
        transport = httpx.ASGITransport(app=create_app(gateway))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            reply = await client.post(
                "/v1/chat/completions",
                json={{"model": "smart", "messages": HI}},
                headers={{"traceparent": "{PARENT}"}},
            )
            assert reply.status_code == 200, reply.text
        print("tracing", gateway.tracing, file=sys.stderr)
    print("imported", any(m.split(".")[0] == "opentelemetry" for m in sys.modules), file=sys.stderr)

asyncio.run(main())
"""


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    clean["PYTHONPATH"] = os.pathsep.join([str(SRC), str(SRC.parent)])
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_off_by_default_and_opentelemetry_is_never_imported() -> None:
    done = run({})
    assert done.returncode == 0, done.stderr
    assert "tracing False" in done.stderr
    assert "imported False" in done.stderr


def test_otel_sdk_disabled_false_turns_it_on_and_the_console_exporter_prints() -> None:
    done = run(
        {
            "OTEL_SDK_DISABLED": "false",
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_SERVICE_NAME": "gateway-under-test",
        }
    )
    assert done.returncode == 0, done.stderr
    assert "tracing True" in done.stderr and "imported True" in done.stderr
    # the console exporter writes each span as one line of JSON
    found = [json.loads(line) for line in done.stdout.splitlines()]
    names = sorted(s["name"] for s in found)
    assert names == ["chat m", "chat m", "chat m", "chat smart", "chat smart", "chat smart"]
    served = next(s for s in found if s["kind"] == "SERVER")
    assert served["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert served["parent_span_id"] == "00f067aa0ba902b7"
    assert served["resource"]["service.name"] == "gateway-under-test"
    assert served["attributes"]["gen_ai.operation.name"] == "chat"
    assert served["end_time_unix_nano"] >= served["start_time_unix_nano"] > 0
    attempts = [s for s in found if s["kind"] == "CLIENT" and s["trace_id"] == served["trace_id"]]
    assert [a["parent_span_id"] for a in attempts] == [served["span_id"]]
    assert attempts[0]["attributes"]["gen_ai.response.finish_reasons"] == ["stop"]


def test_the_config_switch_and_a_veto() -> None:
    # telemetry.otel through its SWITCHYARD_ override, as a deployment would set it
    on = run({"SWITCHYARD_TELEMETRY__OTEL": "true", "OTEL_TRACES_EXPORTER": "none"})
    assert "tracing True" in on.stderr, on.stderr
    vetoed = run({"SWITCHYARD_TELEMETRY__OTEL": "true", "OTEL_SDK_DISABLED": "true"})
    assert "tracing False" in vetoed.stderr and "imported False" in vetoed.stderr, vetoed.stderr


def test_exporters_follow_otel_traces_exporter(caplog: pytest.LogCaptureFixture) -> None:
    assert exporters({"OTEL_TRACES_EXPORTER": "none"}) == []
    (console,) = exporters({"OTEL_TRACES_EXPORTER": "console"})
    assert isinstance(console, JsonLinesExporter)
    with pytest.raises(ConfigError, match="unknown exporter 'zipkin'"):
        exporters({"OTEL_TRACES_EXPORTER": "zipkin"})
    provider = build_tracer_provider({"OTEL_TRACES_EXPORTER": "none"})
    named = os.environ.get("OTEL_SERVICE_NAME") or "switchyard"
    assert provider.resource.attributes["service.name"] == named


@pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.exporter") is not None,
    reason="the OTLP exporter is installed here",
)
def test_a_missing_otlp_exporter_is_named(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ConfigError, match=OTLP_PACKAGE):
        exporters({"OTEL_TRACES_EXPORTER": "otlp"})
    with pytest.raises(ConfigError, match=OTLP_PACKAGE):
        exporters({"OTEL_TRACES_EXPORTER": "console,otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    with caplog.at_level(logging.WARNING, logger="switchyard.telemetry"):
        assert exporters({}) == []  # the default, otlp: spans made, not exported
    assert OTLP_PACKAGE in caplog.text


@pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.exporter") is not None,
    reason="the OTLP exporter is installed here",
)
def test_serve_refuses_an_exporter_it_cannot_honour(tmp_path: Path) -> None:
    config = tmp_path / "switchyard.yaml"
    config.write_text(json.dumps({**CONFIG, "telemetry": {"otel": True}}))
    done = subprocess.run(
        [sys.executable, "-m", "switchyard", "serve", "--config", str(config), "--port", "0"],
        env={**os.environ, "OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert OTLP_PACKAGE in done.stderr and "OTEL_TRACES_EXPORTER" in done.stderr
