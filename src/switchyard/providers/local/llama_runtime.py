"""llama.cpp in-process (the ``xllamacpp`` wheel): loading a model once and streaming from it.

``xllamacpp.Server`` embeds llama.cpp's server: its own decode loop thread with
``parallel`` slots, plus an HTTP listener we never use. The listener binds 127.0.0.1 on a random
port and requires a random API key, so nothing else on the machine can reach the model. We
call the in-process API, ``handle_chat_completions(body, callback)``: it blocks while it calls
``callback`` with each stream chunk, and stops generating when the callback returns True.

The bridge: each request runs that blocking call on one of the runtime's ``parallel`` worker
threads (requests beyond that wait in the executor's queue, where a cancelled one never
starts); the callback hands chunks to the event loop with ``call_soon_threadsafe``. When the
consumer stops (closes the stream, its task is cancelled), the next callback returns True, so
llama.cpp drops the request and the worker thread returns.

``xllamacpp`` is imported only when a model loads: the base install does not have it.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import secrets
import threading
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from switchyard.errors import InvalidRequest, ProviderUnavailable, SwitchyardError
from switchyard.providers.local.model_files import INSTALL_HINT
from switchyard.providers.local.shared import SharedModels

_LOG_ERRORS = 1  # llama.cpp verbosity: 0 output, 1 errors, 2 warnings, 3 info, 4 debug
_DONE = object()


@dataclass(frozen=True)
class RuntimeConfig:
    """What makes two loaded models interchangeable; providers with equal configs share one."""

    model_path: Path
    context_size: int  # tokens per request (slot); llama.cpp gets context_size * parallel
    threads: int
    parallel: int


def default_threads() -> int:
    """One core is left to the event loop: llama.cpp's spinning threads slow down sharply when
    they compete for a core (measured: 2 threads on 2 busy cores decode 5-10x slower)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, min(8, cores - 1))


def import_runtime() -> ModuleType:
    try:
        return importlib.import_module("xllamacpp")
    except ImportError as exc:
        raise ProviderUnavailable(
            f"the local provider needs llama.cpp (the xllamacpp package): {INSTALL_HINT}"
        ) from exc


class LlamaRuntime:
    """One loaded GGUF model and the worker threads that talk to it."""

    def __init__(self, server: Any, config: RuntimeConfig) -> None:
        self.config = config
        self._server: Any = server
        self._executor = ThreadPoolExecutor(
            max_workers=config.parallel, thread_name_prefix="switchyard-llama"
        )
        self._active: set[threading.Event] = set()
        self._active_lock = threading.Lock()
        self.closed = False

    @classmethod
    def load(cls, config: RuntimeConfig) -> LlamaRuntime:
        """Load the model (blocking, a second or two for SmolLM2)."""
        xllamacpp = import_runtime()
        params = xllamacpp.CommonParams()
        params.model.path = str(config.model_path)
        params.n_ctx = config.context_size * config.parallel
        params.n_parallel = config.parallel
        params.cpuparams.n_threads = config.threads
        params.cpuparams_batch.n_threads = config.threads
        params.verbosity = _LOG_ERRORS
        # The embedded HTTP listener: loopback, random port, a key no one else knows, no web UI.
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.api_keys = [secrets.token_urlsafe(32)]
        params.n_threads_http = 1
        params.ui = False
        params.endpoint_slots = False
        params.endpoint_props = False
        params.endpoint_metrics = False
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:
            raise ProviderUnavailable(
                f"llama.cpp could not load {config.model_path}: {exc}"
            ) from exc
        return cls(server, config)

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """The raw chunks of one chat completion (``body`` must ask for a stream).

        Closing this generator (or cancelling the task iterating it) stops generation at the
        next token. Errors the call raises arrive as taxonomy errors.
        """
        if self.closed:
            raise ProviderUnavailable("the local model was shut down")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def deliver(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                stop.set()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if stop.is_set():
                return True
            deliver(chunk)
            return "error" in chunk

        def work() -> None:
            if stop.is_set():
                return
            with self._active_lock:
                self._active.add(stop)
            try:
                self._server.handle_chat_completions(body, on_chunk)
            except (RuntimeError, ValueError) as exc:  # llama.cpp refused the request
                deliver(InvalidRequest(f"llama.cpp rejected the request: {exc}"))
            except Exception as exc:
                deliver(ProviderUnavailable(f"llama.cpp failed: {exc!r}"))
            finally:
                with self._active_lock:
                    self._active.discard(stop)
                deliver(_DONE)

        future = loop.run_in_executor(self._executor, work)
        # A job cancelled before it started (consumer gone, runtime closed) never says DONE.
        future.add_done_callback(lambda _: queue.put_nowait(_DONE))
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    if self.closed:
                        raise ProviderUnavailable("the local model was shut down")
                    return
                if isinstance(item, SwitchyardError):
                    raise item
                assert isinstance(item, dict)
                yield item
        finally:
            stop.set()
            future.cancel()

    def close(self) -> None:
        """Stop every generation, wait for the workers, free the model (blocking)."""
        self.closed = True
        with self._active_lock:
            for stop in self._active:
                stop.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._server = None  # ~Server stops llama.cpp's loop thread and frees the model


def _load(config: RuntimeConfig) -> LlamaRuntime:
    return LlamaRuntime.load(config)


def _close(runtime: LlamaRuntime) -> None:
    runtime.close()


# Every LlamaRuntime in the process, by config: one model load per file and settings.
RUNTIMES: SharedModels[RuntimeConfig, LlamaRuntime] = SharedModels(_load, _close)

__all__ = ["RUNTIMES", "LlamaRuntime", "RuntimeConfig", "default_threads", "import_runtime"]
