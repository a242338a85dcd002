"""Server CPU per request: the GraphQL ``complete`` mutation beside ``/v1/chat/completions``.

    .venv/bin/python bench/graphql_cpu.py [--requests 1000] [--rounds 3]

Serves ``switchyard serve`` (a ``fake`` provider answering at once, a master key, no storage)
in a subprocess, sends the same completion through both doors over one keep-alive connection,
one request at a time, rounds interleaved, and reads the server's user + system CPU time from
``/proc/<pid>/stat`` around each batch (Linux). A rough comparison, not a bench row: the two
doors differ only in the front door, so the difference is what GraphQL costs.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

KEY = "sk-bench-graphql-0123456789abcdef"
CONFIG = """
server: {{host: 127.0.0.1, port: {port}, master_key: {key}, log_level: warning}}
providers:
  a: {{type: fake, reply: "hello there friend"}}
models:
  - name: bench
    deployments: [{{provider: a, model: gpt-4o-mini}}]
"""
OPENAI = {"model": "bench", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16}
GRAPHQL = {
    "query": "mutation($in: CompletionInput!) { complete(input: $in) { id text model provider "
    "finishReason usage { inputTokens outputTokens totalTokens } cost { total } latencyMs } }",
    "variables": {"in": {"model": "bench", "prompt": "hi", "maxTokens": 16}},
}
DOORS = {"openai": ("/v1/chat/completions", OPENAI), "graphql": ("/graphql", GRAPHQL)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "switchyard.yaml"
        path.write_text(CONFIG.format(port=port, key=KEY))
        server = subprocess.Popen(
            [sys.executable, "-m", "switchyard", "serve", "--config", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            print(measure(server.pid, f"http://127.0.0.1:{port}", args.requests, args.rounds))
        finally:
            server.terminate()
            server.wait()


def measure(pid: int, url: str, requests: int, rounds: int) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)
    per_request: dict[str, list[float]] = {door: [] for door in DOORS}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        for path, body in DOORS.values():  # warm-up
            for _ in range(200):
                client.post(path, json=body).raise_for_status()
        for _ in range(rounds):
            for door, (path, body) in DOORS.items():
                before = cpu_seconds(pid)
                for _ in range(requests):
                    reply = client.post(path, json=body)
                assert reply.status_code == 200 and "errors" not in reply.json(), reply.text
                per_request[door].append((cpu_seconds(pid) - before) / requests * 1e6)
    medians = {door: statistics.median(values) for door, values in per_request.items()}
    lines = [
        f"{door:8} server CPU per request: median {medians[door]:.0f} us "
        f"(rounds: {', '.join(f'{v:.0f}' for v in values)})"
        for door, values in per_request.items()
    ]
    lines.append(f"graphql / openai: {medians['graphql'] / medians['openai']:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
