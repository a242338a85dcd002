"""The synchronous facade, for scripts and notebooks::

    import switchyard

    with switchyard.connect() as gw:                 # the embedded defaults, or a config
        print(gw.complete("What is 2+2?").text)
        for chunk in gw.stream(model="local", messages=[{"role": "user", "content": "Hi"}]):
            print(chunk.text or "", end="")

It is not a second implementation: one :class:`~switchyard.gateway.Gateway` runs on an event
loop of its own in a background thread, and every call is a coroutine handed to that loop
(``asyncio``'s thread-safe task submission) whose result the calling thread waits for. So the
facade works the same from a plain script and from Jupyter, where an event loop already runs in
the main thread (ours never touches that one). Closing the facade closes the gateway (the usage
rows and events it queued are written) and then stops the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from switchyard.chat_stream import ChatStream
from switchyard.gateway import ConfigSource, Gateway
from switchyard.status import ModelListing
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Principal,
    ServedBy,
    Usage,
)

T = TypeVar("T")


class _LoopThread:
    """An event loop running forever in a daemon thread, and a blocking way to run a
    coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="switchyard-sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:  # after stop(): finish what the loop still holds, then close it
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

    def run(
        self, coroutine: Coroutine[Any, Any, T], context: contextvars.Context | None = None
    ) -> T:
        """Run ``coroutine`` on the loop (in ``context`` when given) and wait for its result.
        Interrupted while waiting (Ctrl-C), the coroutine is cancelled, not left running."""
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError(
                "a synchronous Switchyard call made from its own event loop would wait for "
                "itself: use the async Gateway (facade.gateway) there"
            )
        if not self._thread.is_alive():
            coroutine.close()
            raise RuntimeError("this Switchyard connection is closed")
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []

        def start() -> None:
            if not done.set_running_or_notify_cancel():
                coroutine.close()
                return
            task = self.loop.create_task(coroutine, context=context)
            tasks.append(task)
            task.add_done_callback(lambda finished: _settle(done, finished))

        self.loop.call_soon_threadsafe(start)
        try:
            return done.result()
        except BaseException:
            if not done.done():  # interrupted while waiting
                done.cancel()
                self.loop.call_soon_threadsafe(lambda: [task.cancel() for task in tasks])
            raise

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()


def _settle(done: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    if done.done():
        return
    if task.cancelled():  # ``done`` is running: cancel() would leave its waiter waiting
        done.set_exception(concurrent.futures.CancelledError())
    elif (error := task.exception()) is not None:
        done.set_exception(error)
    else:
        done.set_result(task.result())


class _Closing:
    """``with`` closes it, however the block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class SyncStream(_Closing):
    """A streamed chat completion iterated synchronously: ``for chunk in gw.stream(...)``.

    Each chunk is one step of the gateway's stream on the facade's loop, all steps in the one
    context the stream began in (so its request id follows it into every log line). Stop
    early with :meth:`close` or a ``with`` block; a stream read to its end closes itself."""

    def __init__(self, portal: _LoopThread, open_stream: Coroutine[Any, Any, ChatStream]) -> None:
        self._portal = portal
        self._context = contextvars.copy_context()
        self._stream: ChatStream = portal.run(open_stream, self._context)
        self._chunks: AsyncIterator[ChatChunk] = aiter(self._stream)
        self._closed = False

    @property
    def served_by(self) -> ServedBy | None:
        """Who answered (known once the first chunk has arrived)."""
        return self._stream.served_by

    @property
    def usage(self) -> Usage | None:
        """The stream's usage (known once it has ended)."""
        return self._stream.usage

    def __iter__(self) -> Iterator[ChatChunk]:
        return self

    def __next__(self) -> ChatChunk:
        if self._closed:
            raise StopIteration
        try:
            return self._portal.run(_next_chunk(self._chunks), self._context)
        except StopAsyncIteration:
            self._closed = True
            raise StopIteration from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop reading: the upstream stream is closed and the request recorded."""
        if self._closed:
            return
        self._closed = True
        self._portal.run(_close(self._chunks, self._stream), self._context)


async def _next_chunk(chunks: AsyncIterator[ChatChunk]) -> ChatChunk:
    return await anext(chunks)


async def _close(chunks: AsyncIterator[ChatChunk], stream: ChatStream) -> None:
    """The relay first (its ``finally`` records the request), then the stream itself (for a
    stream never read: its record, as cancelled by its caller)."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
    await stream.aclose()


class SyncGateway(_Closing):
    """The :class:`~switchyard.gateway.Gateway` for code that is not async: the same methods
    (``chat``, ``complete``, ``embed``, ``stream``), answering directly. ``gateway`` is the
    async core, for what the facade does not wrap: ``gw.run(gw.gateway.usage_summary())``."""

    def __init__(self, build: Coroutine[Any, Any, Gateway]) -> None:
        self._portal = _LoopThread()
        try:
            self.gateway: Gateway = self._portal.run(build)
        except BaseException:
            self._portal.stop()
            raise
        self._closed = False

    def chat(
        self,
        request: ChatRequest | Mapping[str, Any] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> ChatResponse:
        return self.run(self.gateway.chat(request, principal=principal, **fields))

    def complete(
        self,
        prompt: str,
        /,
        *,
        model: str | None = None,
        system: str | None = None,
        principal: Principal | None = None,
        **fields: Any,
    ) -> ChatResponse:
        return self.run(
            self.gateway.complete(prompt, model=model, system=system, principal=principal, **fields)
        )

    def embed(
        self,
        request: EmbeddingRequest | Mapping[str, Any] | str | Sequence[str] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> EmbeddingResponse:
        return self.run(self.gateway.embed(request, principal=principal, **fields))

    def stream(
        self,
        request: ChatRequest | Mapping[str, Any] | None = None,
        /,
        *,
        principal: Principal | None = None,
        **fields: Any,
    ) -> SyncStream:
        gateway = self.gateway

        async def open_stream() -> ChatStream:  # on the loop: the stream's record starts there
            return gateway.stream(request, principal=principal, **fields)

        return SyncStream(self._portal, open_stream())

    def models(self, principal: Principal | None = None) -> list[ModelListing]:
        """The aliases and ``provider/model`` deployments ``principal`` may use."""
        return self.gateway.models(principal)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run any coroutine of the async core on the facade's loop and return its result."""
        if self._closed:
            coroutine.close()
            raise RuntimeError("this Switchyard connection is closed")
        return self._portal.run(coroutine)

    def close(self) -> None:
        """Close the gateway (queued usage rows and events are written), then the loop."""
        if self._closed:
            return
        self._closed = True
        try:
            self._portal.run(self.gateway.aclose())
        finally:
            self._portal.stop()


def connect(config: ConfigSource = None, **options: Any) -> SyncGateway:
    """A started gateway behind the synchronous facade: ``with switchyard.connect() as gw``.

    ``config`` is what :meth:`Gateway.from_config` takes (a YAML path, a mapping, a validated
    config, or None: ``$SWITCHYARD_CONFIG``, else the embedded defaults with the providers
    found in the environment); ``options`` are the Gateway's own (``providers``, ``sinks``, ...).
    """

    async def build() -> Gateway:  # built and started on the facade's loop
        gateway = Gateway.from_config(config, **options)
        try:
            await gateway.start()
        except BaseException:
            await gateway.aclose()
            raise
        return gateway

    return SyncGateway(build())


__all__ = ["SyncGateway", "SyncStream", "connect"]
