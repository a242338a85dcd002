"""Run the real ASGI app under uvicorn in a background thread, on a free 127.0.0.1 port."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import openai
import uvicorn

from switchyard import Gateway
from switchyard.server.app import create_app

T = TypeVar("T")


class ServedGateway:
    def __init__(
        self, gateway: Gateway, port: int, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.gateway = gateway
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.url}/v1"
        self.loop = loop

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``work`` on the server's event loop (where the gateway's database pool and
        tasks live), e.g. ``served.call(served.gateway.accounts.create_key(spec))``."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def client(self, api_key: str = "none") -> openai.OpenAI:
        """The official OpenAI SDK pointed at the gateway, without the SDK's own retries."""
        return openai.OpenAI(base_url=self.base_url, api_key=api_key, max_retries=0)


@contextmanager
def serve(config: Mapping[str, Any] | Gateway) -> Iterator[ServedGateway]:
    gateway = config if isinstance(config, Gateway) else Gateway.from_config(config)
    app = create_app(gateway)
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say they are TCP, and
    # without that every answer's body waited ~40 ms for the client's delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            proxy_headers=False,  # as switchyard.server.run serves: server.trusted_proxies decide
        )
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=[sock])

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    try:
        yield ServedGateway(gateway, port, loops[0])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
