"""``local``: the zero-key, offline default. llama.cpp in-process for chat, numpy MiniLM for
embeddings.

Both models load lazily (on first use, or the chat model in ``start()`` when ``preload`` is set),
once per process: providers with the same model and settings share one copy. Every blocking
call runs on worker threads, never on the event loop. Importing this module imports neither
llama.cpp nor numpy: a base install without the ``local`` extra gets a clear error at the first
request instead of an import failure.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from switchyard.catalog.catalog import Catalog
from switchyard.errors import InvalidRequest, ProviderUnavailable, SwitchyardError
from switchyard.providers.base import Capabilities, HealthCheck, Provider
from switchyard.providers.local import model_files, translate
from switchyard.providers.local.llama_runtime import (
    RUNTIMES,
    LlamaRuntime,
    RuntimeConfig,
    default_threads,
    import_runtime,
)
from switchyard.providers.local.settings import LocalSettings
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Usage,
)

if TYPE_CHECKING:
    from switchyard.providers.local.minilm import MiniLMEncoder


class LocalProvider(Provider[LocalSettings]):
    """Chat with any request ``model`` (one GGUF answers them all) and 384-d embeddings.

    Tools: off, SmolLM2's chat template has no tool support (settings ``tools: true`` passes
    them to llama.cpp for GGUFs whose template has). JSON mode: llama.cpp turns ``json_object``
    and ``json_schema`` into a sampling grammar. Vision: no (no multimodal projector).
    """

    capabilities: ClassVar[Capabilities] = Capabilities(
        chat=True,
        stream=True,
        tools=False,
        vision=False,
        json_mode=True,
        embeddings=True,
        list_models=True,
    )

    def __init__(
        self, name: str, settings: LocalSettings, *, catalog: Catalog | None = None
    ) -> None:
        super().__init__(name, settings, catalog=catalog)
        self._lock = threading.Lock()  # guards the two fields below (taken in worker threads)
        self._runtime: LlamaRuntime | None = None
        self._encoder: MiniLMEncoder | None = None
        self._encoder_key: Path | None = None

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        started = time.perf_counter()
        chunks = [chunk async for chunk in self.stream(request)]
        response = translate.collect(chunks, model=request.model, provider=self.name)
        response.latency_ms = (time.perf_counter() - started) * 1000
        return response

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        try:
            body = translate.to_llama_request(
                request,
                default_max_tokens=self.settings.default_max_tokens,
                allow_tools=self.settings.tools,
            )
            runtime = await self._chat_runtime()
            translator = translate.ChunkTranslator(model=request.model)
            async with aclosing(runtime.stream(body)) as raw:
                async for data in raw:
                    for chunk in translator.feed(data):
                        yield chunk
            yield translator.finish()
        except SwitchyardError as exc:
            self._stamp(exc)
            raise

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        try:
            if not request.input:
                raise InvalidRequest("input must not be empty", param="input")
            encoder = await self._embedding_encoder()
            if request.dimensions is not None and request.dimensions != encoder.dimensions:
                raise InvalidRequest(
                    f"{self._embedding_id()} returns {encoder.dimensions} dimensions, "
                    f"not {request.dimensions}",
                    param="dimensions",
                )
            vectors, tokens = await asyncio.to_thread(_encode, encoder, request.input)
        except SwitchyardError as exc:
            self._stamp(exc)
            raise
        return EmbeddingResponse(
            model=request.model,
            provider=self.name,
            data=vectors,
            usage=Usage(input_tokens=tokens),
        )

    async def list_models(self) -> list[str]:
        chat_id = model_files.model_id(self.settings.model_path, model_files.CHAT_MODEL_ID)
        return [chat_id, self._embedding_id()]

    async def health_check(self) -> HealthCheck:
        """The chat model file exists and llama.cpp imports (a loaded model is healthy)."""
        if self._runtime is not None and not self._runtime.closed:
            return "healthy"
        try:
            self._chat_model_path()
            await asyncio.to_thread(import_runtime)
        except SwitchyardError as exc:
            self._stamp(exc)
            raise
        return "healthy"

    async def start(self) -> None:
        if self.settings.preload:
            await self._chat_runtime()

    async def aclose(self) -> None:
        """Give back this provider's share of the models; the last user frees them."""

        def release() -> None:  # in a thread: the lock may be held by a load in progress
            with self._lock:
                runtime, self._runtime = self._runtime, None
                folder, self._encoder, self._encoder_key = self._encoder_key, None, None
            if runtime is not None:
                RUNTIMES.release(runtime.config)
            if folder is not None:
                _minilm().ENCODERS.release(folder)

        await asyncio.to_thread(release)

    # -- models -----------------------------------------------------------------------------

    def runtime_config(self) -> RuntimeConfig:
        return RuntimeConfig(
            model_path=self._chat_model_path(),
            context_size=self.settings.context_size,
            threads=self.settings.threads or default_threads(),
            parallel=self.settings.parallel,
        )

    async def _chat_runtime(self) -> LlamaRuntime:
        runtime = self._runtime
        if runtime is not None:
            return runtime
        config = self.runtime_config()

        def load() -> LlamaRuntime:
            # Concurrent first requests queue on the lock and find the model loaded; a load
            # whose caller was cancelled still completes and is kept for the next request.
            with self._lock:
                if self._runtime is None:
                    self._runtime = RUNTIMES.acquire(config)
                return self._runtime

        return await asyncio.to_thread(load)

    async def _embedding_encoder(self) -> MiniLMEncoder:
        encoder = self._encoder
        if encoder is not None:
            return encoder
        folder = self._embedding_folder()

        def load() -> MiniLMEncoder:
            with self._lock:
                if self._encoder is None:
                    self._encoder = _minilm().ENCODERS.acquire(folder)
                    self._encoder_key = folder
                return self._encoder

        return await asyncio.to_thread(load)

    def _chat_model_path(self) -> Path:
        try:
            return model_files.chat_model_path(self.settings.model_path)
        except FileNotFoundError as exc:
            raise ProviderUnavailable(str(exc), provider=self.name) from exc

    def _embedding_folder(self) -> Path:
        try:
            return model_files.embedding_model_path(self.settings.embedding_model_path)
        except FileNotFoundError as exc:
            raise ProviderUnavailable(str(exc), provider=self.name) from exc

    def _embedding_id(self) -> str:
        return model_files.model_id(
            self.settings.embedding_model_path, model_files.EMBEDDING_MODEL_ID
        )

    def _stamp(self, exc: SwitchyardError) -> None:
        if exc.provider is None:
            exc.provider = self.name


def _encode(encoder: MiniLMEncoder, texts: list[str]) -> tuple[list[list[float]], int]:
    vectors, tokens = encoder.encode(texts)
    return vectors.tolist(), tokens


def _minilm() -> ModuleType:
    """The numpy encoder module, imported on first use (numpy is part of the local extra)."""
    try:
        return importlib.import_module("switchyard.providers.local.minilm")
    except ImportError as exc:
        raise ProviderUnavailable(
            f"local embeddings need numpy, tokenizers and safetensors: {model_files.INSTALL_HINT}"
        ) from exc


__all__ = ["LocalProvider"]
