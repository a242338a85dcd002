"""Running the service: one process, or ``server.workers`` processes sharing one port.

One process (:func:`run_gateway`) builds the Gateway and its app and serves them (see
:mod:`switchyard.server.run` for the drain). With several (:func:`run_workers`), this process
migrates a SQLite ledger, binds one listening socket per worker on the same port
(``SO_REUSEPORT``) and starts that many worker processes (multiprocessing's ``spawn``, as
uvicorn's own supervisor does), each a whole gateway serving its own socket. The kernel spreads
new connections evenly over the sockets by their addresses; with one socket shared by all, the
worker whose event loop woke first would take a whole burst of connections (asyncio accepts up
to its backlog per wake-up), and a client's keep-alive connections would stay unevenly spread.
A worker's socket stays open here while it is replaced, so connections that reach it meanwhile
wait in its queue for the new worker, never refused. This process only supervises:

- SIGTERM or SIGINT is passed on to every worker as SIGTERM, so each drains as a single
  process would (``server.drain_seconds``), then it waits for them all and exits 0;
- a worker that dies while serving is replaced (its in-flight requests are lost, as with any
  crash); one that could not start (exit status 3), or that failed with an error within
  :data:`STARTUP_SECONDS` of its start (a bad certificate, a database behind its schema),
  stops the whole server with status 3: a replacement would fail the same way. A worker killed
  by a signal (SIGKILL, the out-of-memory killer) is always replaced;
- Prometheus metrics are kept in prometheus-client's multiprocess mode: unless
  ``PROMETHEUS_MULTIPROC_DIR`` is already set, it is a fresh temporary directory, removed at
  exit, and every worker's ``GET /metrics`` answers for all of them
  (:mod:`switchyard.server.metrics`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from switchyard.config.schema import SwitchyardConfig
from switchyard.server.metrics import MULTIPROC_ENV

STARTUP_SECONDS = 10.0  # a worker failing sooner than this after its start failed to start
START_FAILED = 3  # the exit status of a server (or a worker) that could not start
PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies

logger = logging.getLogger("switchyard.server")


def run_gateway(
    settings: SwitchyardConfig, log_level: str | None, sockets: list[socket.socket] | None = None
) -> bool:
    """Build and serve one gateway in this process until it is told to stop; False if it
    could not start. ``log_level``: ``--log-level`` (None: ``server.log_level``)."""
    from switchyard.gateway import Gateway
    from switchyard.records.sinks import LogSink
    from switchyard.server.app import create_app
    from switchyard.server.logs import configure_logging
    from switchyard.server.run import serve

    server = settings.server
    lines = configure_logging(log_level or server.log_level, log_format=server.log_format)
    try:
        # a ConfigError here (e.g. an OTEL_TRACES_EXPORTER it cannot honour) is the caller's
        gateway = Gateway(
            settings, sinks=[LogSink(lines=lines, structured=server.log_format == "json")]
        )
        return serve(create_app(gateway, server), server, sockets)
    finally:
        lines.close()  # writes the lines still pending


def per_process_state(settings: SwitchyardConfig) -> list[str]:
    """What each worker keeps to itself under this config (each names its setting)."""
    found = []
    limits = settings.limits
    limited = (
        limits.global_ is not None
        or settings.storage is not None  # virtual keys may carry limits and budgets
        or any(t.limits is not None or t.budget is not None for t in settings.tenants)
        or any(a.budget is not None for a in settings.models)
        or any(d.limits is not None for a in settings.models for d in a.deployments)
    )
    if limits.backend == "memory" and limited:
        found.append(
            "limits.backend is memory: each worker counts rate limits and budgets on its own"
        )
    if settings.cache is not None and settings.cache.backend == "memory":
        found.append("cache.backend is memory: each worker caches its own answers")
    if settings.router.breaker_store.backend == "memory":
        found.append("router.breaker_store.backend is memory: each worker has its own breakers")
    return found


def run_workers(settings: SwitchyardConfig, log_level: str | None) -> int:
    """Serve with ``server.workers`` processes; the exit status (0, or :data:`START_FAILED`)."""
    from switchyard.server.logs import configure_logging

    server = settings.server
    lines = configure_logging(log_level or server.log_level, log_format=server.log_format)
    own_dir = None
    if server.metrics and not os.environ.get(MULTIPROC_ENV):
        own_dir = tempfile.mkdtemp(prefix="switchyard-metrics-")
        os.environ[MULTIPROC_ENV] = own_dir  # the workers inherit it
    try:
        for problem in per_process_state(settings):
            logger.warning("server.workers is %d and %s", server.workers, problem)
        _migrate_once(settings)
        socks = _bind(server.host, server.port, server.workers)
        return Supervisor(settings, log_level, socks).run()
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)
        lines.close()


def _migrate_once(settings: SwitchyardConfig) -> None:
    """A SQLite ledger is migrated here, before the workers start, rather than by each of them
    at once (they would race to create the same tables). PostgreSQL is never migrated on start
    (``switchyard db upgrade``)."""
    storage = settings.storage
    if storage is None or not storage.url.startswith("sqlite"):
        return
    import asyncio

    from switchyard.storage.engine import build_engine
    from switchyard.storage.migrate import upgrade

    async def run() -> None:
        engine = build_engine(storage)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _bind(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one port (the first one's, when ``port`` is 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host.strip("[]"), port))
            port = sock.getsockname()[1]
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks


def _worker(
    settings: SwitchyardConfig, log_level: str | None, sock: socket.socket, supervisor: int
) -> None:
    """A worker process's whole life: one gateway on its socket."""
    _stop_with(supervisor)
    started = run_gateway(settings, log_level, [sock])
    sys.exit(0 if started else START_FAILED)


def _stop_with(supervisor: int) -> None:
    """A worker never outlives its supervisor: one killed outright (SIGKILL, the out-of-memory
    killer) cannot pass SIGTERM on, and its workers would serve on, unsupervised, holding the
    port. On Linux the kernel sends this process SIGTERM when the supervisor dies (it then
    drains like any worker); one that died before this was set is noticed at once."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    """Starts the workers, replaces one that dies, and stops them all on a signal."""

    def __init__(
        self, settings: SwitchyardConfig, log_level: str | None, socks: list[socket.socket]
    ) -> None:
        self.settings = settings
        self.log_level = log_level
        self.socks = socks  # worker i serves socks[i], and so does its replacement
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[tuple[BaseProcess, float]] = []
        self.stopping = False
        self.signals = 0

    def run(self) -> int:
        multiprocessing.allow_connection_pickling()  # each worker gets its socket
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        status = 0
        try:
            self.workers = [self._start(i) for i in range(len(self.socks))]
            logger.info(
                "Switchyard: %d workers on %s:%d",
                len(self.workers),
                self.settings.server.host,
                self.settings.server.port,
            )
            while not self.stopping:
                time.sleep(0.2)
                if self._replace_dead() is False:
                    status = START_FAILED
                    self.stopping = True
            self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in self.socks:
                sock.close()
        return status

    def _start(self, slot: int) -> tuple[BaseProcess, float]:
        process = self.context.Process(
            target=_worker,
            args=(self.settings, self.log_level, self.socks[slot], os.getpid()),
            name="switchyard-worker",
        )
        process.start()
        return process, time.monotonic()

    def _replace_dead(self) -> bool:
        """Replace the workers that died; False when one died while starting."""
        for i, (process, started) in enumerate(self.workers):
            if process.is_alive() or self.stopping:
                continue
            _forget_metrics(process.pid)
            code = process.exitcode or 0  # negative: killed by a signal, which is no start failure
            if code == START_FAILED or (code > 0 and time.monotonic() - started < STARTUP_SECONDS):
                logger.error(
                    "worker %s failed to start (exit status %s): stopping", process.pid,
                    process.exitcode,
                )  # fmt: skip
                return False
            logger.warning(
                "worker %s died (exit status %s): starting another", process.pid, process.exitcode
            )
            self.workers[i] = self._start(i)
        return True

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self.stopping = True
        self.signals += 1
        for process, _ in self.workers:
            if process.is_alive() and process.pid is not None:
                # a second signal repeats it: uvicorn then stops waiting for open requests
                os.kill(process.pid, signal.SIGINT if self.signals > 1 else signal.SIGTERM)

    def _stop_all(self) -> None:
        for process, _ in self.workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process, _ in self.workers:
            process.join()
            _forget_metrics(process.pid)


def _forget_metrics(pid: int | None) -> None:
    """Drop a dead worker's live gauges (requests in flight, queue depth) from the sums."""
    if pid is None or not os.environ.get(MULTIPROC_ENV):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


__all__ = [
    "START_FAILED",
    "Supervisor",
    "per_process_state",
    "run_gateway",
    "run_workers",
]
