"""Serving the app with uvicorn, and draining it on SIGTERM (or Ctrl-C).

Shutdown: uvicorn stops accepting connections and waits for in-flight requests. After
``server.drain_seconds`` the app's :class:`~switchyard.doors.drain.Drain` ends the streams
still open with an error event; :data:`CUT_GRACE` seconds later uvicorn cancels whatever is
still waiting (answered 503 by the guard), then the gateway closes. The process then exits
with status 0: uvicorn would raise the signal again once drained, which reports a clean drain
as "killed by SIGTERM".
"""

from __future__ import annotations

import importlib.util
import math
import signal
import socket
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from switchyard.config.schema import ServerSettings
from switchyard.doors.drain import Drain

CUT_GRACE = 1  # seconds between the streams' error events and uvicorn cancelling the rest


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.drain_seconds = drain_seconds

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.drain.begin(self.drain_seconds)
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # as uvicorn does, minus recording the signal to raise again after the drain
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def serve(
    app: Starlette, settings: ServerSettings, sockets: list[socket.socket] | None = None
) -> bool:
    """Serve until a signal ends it and the drain is over; False if start-up failed. With
    ``sockets`` (a worker of :mod:`switchyard.server.workers`), serve on those instead of
    binding ``server.host:port``."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
        loop="uvloop" if _has("uvloop") else "asyncio",
        http="httptools" if _has("httptools") else "h11",
        access_log=False,
        log_config=None,  # our handlers stay (see switchyard.server.logs)
        log_level="warning",
        timeout_graceful_shutdown=math.ceil(settings.drain_seconds) + CUT_GRACE,
        server_header=False,
        # uvicorn would believe X-Forwarded-For/-Proto from 127.0.0.1 by default: only
        # server.trusted_proxies decide whose header counts (switchyard.server.client_address)
        proxy_headers=False,
    )
    server = DrainingServer(config, app.state.drain, settings.drain_seconds)
    server.run(sockets)
    return server.started


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


__all__ = ["CUT_GRACE", "DrainingServer", "serve"]
