"""`switchyard serve` as a user runs it: a subprocess on a free 127.0.0.1 port, ready to call."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    url: str

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, then the exit status once the server has drained."""
        self.process.terminate()
        return self.process.wait(timeout=timeout)


def wait_until_answering(
    process: subprocess.Popen[str],
    url: str,
    seconds: float = 20,
    interval: float = 0.05,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Until ``url`` answers 200 (over HTTPS trusting ``tls``, when given); fails with the
    server's stderr if it exits first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, verify=tls or True).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, f"{url} did not answer within {seconds} s"
        time.sleep(interval)


@contextmanager
def serve_process(
    config: str,
    directory: Path,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
    tls: ssl.SSLContext | None = None,
) -> Iterator[ServerProcess]:
    """Run ``switchyard serve`` on ``config`` (YAML; ``PORT`` is replaced by a free port), with
    ``args`` added to its command line, until ``/healthz`` answers (over HTTPS, trusting
    ``tls``, when given); killed at the end if the test left it running."""
    port = free_port()
    path = directory / "switchyard.yaml"
    path.write_text(config.replace("PORT", str(port)))
    process = subprocess.Popen(
        [sys.executable, "-m", "switchyard", "serve", "--config", str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    url = f"{'http' if tls is None else 'https'}://127.0.0.1:{port}"
    try:
        wait_until_answering(process, f"{url}/healthz", tls=tls)
        yield ServerProcess(process, url)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


__all__ = ["ServerProcess", "free_port", "serve_process", "wait_until_answering"]
