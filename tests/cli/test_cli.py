"""The `switchyard` command as a user runs it: in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.e2e.served_process import free_port, serve_process

FAKE_CONFIG = """
server: {host: 127.0.0.1, port: PORT, drain_seconds: 10}
providers:
  scripted: {type: fake, reply: "the quick brown fox", tokens_per_second: 200}
  slow: {type: fake, reply: "worth the wait", latency: 1.5}
models:
  - {name: quick, deployments: [{provider: scripted, model: fox-1}]}
  - {name: slow, deployments: [{provider: slow, model: tortoise-1}]}
"""


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchyard", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "switchyard.yaml"
    path.write_text(FAKE_CONFIG.replace("PORT", str(free_port())))
    return path


def test_config_check_accepts_a_good_file(config_file: Path) -> None:
    result = run("config", "check", str(config_file))
    assert result.returncode == 0, result.stderr
    assert "2 model alias" in result.stdout


def test_config_check_names_the_offending_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "providers: {p: {type: fake}}\n"
        "models: [{name: a, deployments: [{provider: q, model: m}]}]\n"
    )
    result = run("config", "check", str(bad))
    assert result.returncode == 2
    assert "models[0].deployments[0].provider" in result.stderr


def test_chat_streams_the_answer(config_file: Path) -> None:
    result = run("chat", "-m", "quick", "--config", str(config_file), "say something")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the quick brown fox"
    assert "scripted/fox-1" in result.stderr


def test_chat_reads_the_prompt_from_stdin(config_file: Path) -> None:
    result = run(
        "chat", "-m", "quick", "--no-stream", "--config", str(config_file), "-", stdin="hi"
    )
    assert result.stdout.strip() == "the quick brown fox"


def test_chat_with_an_unknown_model_fails_clearly(config_file: Path) -> None:
    result = run("chat", "-m", "nope", "--config", str(config_file), "hi")
    assert result.returncode == 1
    assert "ModelNotFound" in result.stderr


def test_models_lists_aliases_and_deployments(config_file: Path) -> None:
    result = run("models", "--config", str(config_file))
    assert result.returncode == 0, result.stderr
    assert "quick" in result.stdout and "scripted/fox-1" in result.stdout


def test_serve_refuses_a_public_address_without_a_master_key(config_file: Path) -> None:
    result = run("serve", "--config", str(config_file), "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "master_key" in result.stderr


def test_serve_refuses_an_unknown_log_format(config_file: Path) -> None:
    result = run("serve", "--config", str(config_file), "--log-format", "xml")
    assert result.returncode == 2
    assert "--log-format must be one of console, json" in result.stderr


def test_serve_answers_and_drains_in_flight_requests_on_sigterm(tmp_path: Path) -> None:
    with serve_process(FAKE_CONFIG, tmp_path) as server:
        body = {"model": "slow", "messages": [{"role": "user", "content": "hi"}]}
        answers: list[httpx.Response] = []
        slow = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=10)
            )
        )
        slow.start()
        time.sleep(0.5)  # the slow request is in flight
        server.process.send_signal(signal.SIGTERM)
        slow.join(timeout=10)
        assert answers and answers[0].status_code == 200
        assert answers[0].json()["choices"][0]["message"]["content"] == "worth the wait"
        assert server.process.wait(timeout=10) == 0  # a clean drain is a clean exit
