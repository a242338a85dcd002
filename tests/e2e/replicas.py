"""What the many-replicas test runs against: an OpenAI-shaped upstream on 127.0.0.1 (HTTP or
HTTPS) that counts what it answers (``/v1``: a 5-token answer; ``/fail/v1``: 500), and a
round-robin client over several gateway processes, as a load balancer would spread requests."""

from __future__ import annotations

import itertools
import json
import ssl
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency: float, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "http" if tls is None else "https"
        self.latency = latency
        self.answered: Counter[str] = Counter()  # by path
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with self.server.lock:
            self.server.answered[self.path] += 1
        time.sleep(self.server.latency)
        if self.path.startswith("/fail/"):
            self._reply(500, {"error": {"message": "upstream broke", "type": "server_error"}})
            return
        self._reply(
            200,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": "m",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "one two three four five"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
            },
        )

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def upstream(latency: float = 0.0, tls: ssl.SSLContext | None = None) -> Iterator[Upstream]:
    """The upstream, serving HTTPS with ``tls`` (a server context)."""
    server = Upstream(latency, tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Sent:
    request_id: str
    replica: int
    started: float
    status: int | None = None  # None: no answer (the connection failed or broke)
    ended: float | None = None
    reply: httpx.Response | None = None


@dataclass
class RoundRobin:
    """Each request to the next replica in turn, as a load balancer would; a replica that
    refuses the connection is skipped (the request goes to the next one)."""

    urls: list[str]
    key: str | None = None
    sent: list[Sent] = field(default_factory=list)
    _turn: Iterator[int] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(range(len(self.urls)))
        self.down: set[int] = set()

    def next_replica(self) -> int:
        with self._lock:
            for _ in range(len(self.urls)):
                i = next(self._turn)
                if i not in self.down:
                    return i
        raise RuntimeError("every replica is down")

    def chat(self, model: str, text: str, *, replica: int | None = None, **extra: Any) -> Sent:
        i = self.next_replica() if replica is None else replica
        sent = Sent(uuid.uuid4().hex, i, time.monotonic())
        with self._lock:
            self.sent.append(sent)
        headers = {"x-request-id": sent.request_id}
        if self.key is not None:
            headers["authorization"] = f"Bearer {self.key}"
        body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
        try:
            reply = httpx.post(
                f"{self.urls[i]}/v1/chat/completions", json=body, headers=headers, timeout=15
            )
        except httpx.ConnectError:
            with self._lock:
                self.sent.remove(sent)  # never reached the replica
                self.down.add(i)
            return self.chat(model, text, **extra)
        except httpx.TransportError:
            return sent  # reached it, no answer
        sent.status, sent.ended, sent.reply = reply.status_code, time.monotonic(), reply
        return sent


__all__ = ["RoundRobin", "Sent", "Upstream", "upstream"]
