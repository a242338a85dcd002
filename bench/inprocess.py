"""What the in-process benches share: one request through an ASGI app, and the instructions
a run of a script costs under callgrind (``bench/instructions.py``, ``bench/door_cpu.py``)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Mapping
from typing import Any


async def post(app: Any, path: bytes, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """``POST path`` with ``body`` through the ASGI ``app`` (no server, no network); the
    response's status, once its last byte is sent."""
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 18090),
        "client": ("127.0.0.1", 50000),
        "headers": headers,
        "state": {},
    }
    await app(scope, receive, send)
    return int(sent[0]["status"])


def callgrind_instructions(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    """The instructions ``argv`` (a Python run) executes under ``valgrind --tool=callgrind``."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    found = re.findall(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind run failed:\n{done.stderr[-2000:]}")
    return int(found[-1])
