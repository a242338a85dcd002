"""One agent run, end to end, inside a private network namespace; the tests start it as
``unshare --net --pid ... python -m tests.agents.runner '<spec JSON>'`` (``harness.UNSHARE``)
and read one JSON line back.

In order: loopback up, then the namespace checked (:mod:`tests.agents.isolation`): anything
but loopback and the runner refuses, before it has written or started anything. Then the
model-like fake upstream (a thread here), ``switchyard serve`` on a config written into the
run's directory (a subprocess), and the agent (a subprocess in its own process group, with a
home of its own and only the environment it needs), bounded by ``seconds`` and ended by its
process group whatever happens. The report says what the agent printed and what reached the
upstream.

The spec: ``{"agent": "claude-code" | "codex" | "gemini-cli", "upstream": "anthropic" | "chat" |
"gemini" | "responses", "scenario": "plain" | "tool", "directory": "...", "seconds": 90}``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.agents.agents import AGENTS, ALIAS, API_KEY, PLAIN_PROMPT, TOOL_PROMPT
from tests.agents.isolation import bring_up_loopback, why_not_isolated
from tests.agents.model_upstreams import UPSTREAMS, ModelUpstream
from tests.agents.scripted_model import Script
from tests.e2e.served_process import free_port, wait_until_answering

# what the gateway's provider is for each upstream format (``URL``: the fake's base_url)
PROVIDERS = {
    "anthropic": "{type: anthropic, base_url: 'URL', api_key: upstream-key}",
    "chat": "{type: openai, base_url: 'URL', api_key: upstream-key}",
    "gemini": "{type: gemini, base_url: 'URL', api_key: upstream-key}",
    "responses": "{type: openai, base_url: 'URL', api_key: upstream-key, wire_api: responses}",
}
UPSTREAM_MODELS = {
    "anthropic": "claude-sonnet-4-5",
    "chat": "gpt-4.1",
    "gemini": "gemini-2.5-flash",
    "responses": "gpt-5",
}
CONFIG = """server: {{host: 127.0.0.1, port: {port}, master_key: {key}, log_level: info}}
storage: {{url: "sqlite+aiosqlite:///{directory}/switchyard.db"}}
providers:
  upstream: {provider}
models:
  - name: {alias}
    deployments: [{{provider: upstream, model: {model}}}]
"""
TAIL = 6000
STARTUP_SECONDS = 60  # a loaded 2-core CI machine has taken 20 s to start the gateway


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    bring_up_loopback()
    refused = why_not_isolated()
    if refused is not None:
        _report({"refused": f"not in a private network namespace: {refused}"})
        return 3
    _report(run(spec))
    return 0


def run(spec: dict[str, Any]) -> dict[str, Any]:
    directory = Path(spec["directory"])
    project, home = directory / "project", directory / "home"
    for folder in (project, home, directory / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    secret = f"sy-secret-{secrets.token_hex(6)}"
    notes = project / "notes.txt"
    notes.write_text(f"{secret}\n")
    scenario = spec["scenario"]
    script = Script(scenario, str(notes), secret)
    upstream = UPSTREAMS[spec["upstream"]](script)
    with upstream, _gateway(spec["upstream"], upstream, directory) as gateway:
        prompt = PLAIN_PROMPT if scenario == "plain" else TOOL_PROMPT.format(path=notes)
        launch = AGENTS[spec["agent"]].prepare(gateway, home, prompt)
        env = {**_base_env(home, directory / "tmp"), **launch.env}
        started = time.monotonic()
        exit_code, stdout, stderr, timed_out = run_bounded(
            launch.argv, project, env, float(spec.get("seconds", 90))
        )
        return {
            "exit_code": exit_code,
            "timed_out": timed_out,
            "seconds": round(time.monotonic() - started, 1),
            "stdout": stdout[-TAIL:],
            "stderr": stderr[-TAIL:],
            "secret": secret,
            "requests": _requests(upstream),
            "gateway_log": (directory / "gateway.log").read_text(errors="replace")[-TAIL:],
        }


@contextmanager
def _gateway(kind: str, upstream: ModelUpstream, directory: Path) -> Iterator[str]:
    """``switchyard serve`` in front of ``upstream``; yields its URL."""
    port = free_port()
    provider = PROVIDERS[kind].replace("URL", upstream.base_url)
    config = directory / "switchyard.yaml"
    config.write_text(
        CONFIG.format(
            port=port,
            key=API_KEY,
            directory=directory,
            provider=provider,
            alias=ALIAS,
            model=UPSTREAM_MODELS[kind],
        )
    )
    with (directory / "gateway.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "switchyard", "serve", "--config", str(config)],
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(process, f"{url}/healthz", seconds=STARTUP_SECONDS)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _base_env(home: Path, tmp: Path) -> dict[str, str]:
    """Only what an agent needs: no proxy, no real API key, no CI flag leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "NO_UPDATE_NOTIFIER": "1",
    }


def run_bounded(
    argv: list[str], cwd: Path, env: dict[str, str], seconds: float
) -> tuple[int | None, str, str, bool]:
    """Run ``argv`` in a new session (its own process group), at most ``seconds``; the group
    is killed at the end in every case, so nothing it started outlives the run."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process.pid)
        stdout, stderr = process.communicate()
    finally:
        _kill_group(process.pid)
    return (None if timed_out else process.returncode), stdout, stderr, timed_out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _requests(upstream: ModelUpstream) -> list[dict[str, Any]]:
    """What reached the upstream, request by request: path, streamed or not, the tools
    offered and how many tool results the conversation held."""
    reached = []
    for request in upstream.requests:
        body = request.json if isinstance(request.json, dict) else {}
        seen = upstream.seen(body)
        reached.append(
            {
                "method": request.method,
                "path": request.path,
                "stream": bool(body.get("stream")) or "streamGenerateContent" in request.path,
                "tools": [tool.name for tool in seen.tools],
                "tool_results": seen.tool_results,
            }
        )
    return reached


def _report(report: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
