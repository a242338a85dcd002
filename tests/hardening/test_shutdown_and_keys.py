"""`switchyard serve` in a subprocess: draining on SIGTERM (the exit status, streams cut at the
deadline) and the master key from $SWITCHYARD_MASTER_KEY (issue 7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.served_process import serve_process

CONFIG = """
server: {host: 127.0.0.1, port: PORT, drain_seconds: DRAIN}
providers:
  long: {type: fake, reply: "REPLY", tokens_per_second: 20}
  slow: {type: fake, reply: "worth the wait", latency: 30}
models:
  - {name: long, deployments: [{provider: long, model: l}]}
  - {name: slow, deployments: [{provider: slow, model: s}]}
""".replace("REPLY", "word " * 400)

HELLO: Any = [{"role": "user", "content": "hi"}]


def config(drain_seconds: float) -> str:
    return CONFIG.replace("DRAIN", str(drain_seconds))


def test_sigterm_on_an_idle_server_exits_0(tmp_path: Path) -> None:
    with serve_process(config(10), tmp_path) as server:
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 5


def test_a_stream_still_open_at_the_drain_deadline_ends_with_an_error_event(
    tmp_path: Path,
) -> None:
    with serve_process(config(1), tmp_path) as server:
        body = {"model": "long", "messages": HELLO, "stream": True}
        events: list[str] = []
        with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body) as reply:
            for line in reply.iter_lines():
                if not line.startswith("data: "):
                    continue
                events.append(line[6:])
                if len(events) == 1:
                    server.process.send_signal(signal.SIGTERM)
                    signalled = time.monotonic()
        ended = time.monotonic() - signalled
        assert server.process.wait(timeout=10) == 0
    assert 0.8 < ended < 3, ended  # the drain deadline, not the stream's own end (20 s)
    assert len(events) > 5  # the stream went on during the drain
    error = json.loads(events[-1])["error"]
    assert error["code"] == "server_shutting_down" and error["type"] == "api_error"


def test_a_request_still_waiting_after_the_drain_gets_a_503_json(tmp_path: Path) -> None:
    with serve_process(config(0), tmp_path) as server:
        body = {"model": "slow", "messages": HELLO}
        answers: list[httpx.Response] = []
        waiting = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=10)
            )
        )
        waiting.start()
        time.sleep(0.5)
        assert server.stop() == 0
        waiting.join(timeout=10)
    [answer] = answers
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "server_shutting_down"


def test_switchyard_master_key_applies_without_a_config_reference(tmp_path: Path) -> None:
    with serve_process(
        config(1), tmp_path, env={"SWITCHYARD_MASTER_KEY": "from-the-env"}
    ) as server:
        assert httpx.get(f"{server.url}/v1/models").status_code == 401
        keyed = {"authorization": "Bearer from-the-env"}
        assert httpx.get(f"{server.url}/v1/models", headers=keyed).status_code == 200


def test_the_refusal_names_both_ways_to_set_a_master_key(tmp_path: Path) -> None:
    path = tmp_path / "switchyard.yaml"
    path.write_text(config(1).replace("PORT", "0"))
    env = {k: v for k, v in os.environ.items() if k != "SWITCHYARD_MASTER_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "switchyard", "serve", "--config", str(path), "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "COLUMNS": "200"},
    )
    assert result.returncode == 2
    assert "SWITCHYARD_MASTER_KEY" in result.stderr and "server.master_key" in result.stderr
