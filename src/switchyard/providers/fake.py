"""``fake``: a scripted provider with latency, streaming speed and fault injection.

For tests and for users rehearsing failover: ``reply`` fixes the answer (otherwise it echoes the
last user message), ``latency`` delays the first byte, ``tokens_per_second`` paces a stream, and
``failure`` injects a fault (see :class:`FakeFailure`). ``slow_rate``/``slow_latency`` give the
latency a heavy tail: that fraction of calls waits ``slow_latency`` instead (what hedged requests
are for). Tests may also hand a provider a queue of outcomes with :meth:`FakeProvider.script`,
each consumed by one call, and read ``cancelled``: calls the gateway cancelled or streams it
closed before their end, and ``requests``: the last :data:`REQUEST_LOG_SIZE` chat requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.catalog.catalog import Catalog
from switchyard.errors import (
    InvalidRequest,
    ProviderUnavailable,
    UpstreamProtocolError,
    error_for_status,
)
from switchyard.providers.base import Capabilities, HealthCheck, Provider, ProviderSettings
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
    Message,
    Usage,
)

REQUEST_LOG_SIZE = 1000  # chat requests kept in FakeProvider.requests (oldest dropped)
MAX_DIMENSIONS = 8192  # the largest embedding a fake returns (OpenAI's largest is 3072)


class FakeFailure(BaseModel):
    """A fault to inject. ``mode``:

    - ``status``: fail as an upstream answering ``status`` with ``body`` would (a 429 carries
      ``retry_after`` seconds);
    - ``timeout``: never answer (the gateway's attempt timeout ends it);
    - ``malformed``: an upstream reply that cannot be parsed;
    - ``cut_stream``: stream ``after_chunks`` chunks, then break the connection.

    ``times`` fails only the first N calls; ``rate`` fails that fraction of calls at random.
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["status", "timeout", "malformed", "cut_stream"] = "status"
    status: int = Field(default=500, ge=400, le=599)
    body: str | None = None
    retry_after: float | None = Field(default=None, ge=0)
    after_chunks: int = Field(default=2, ge=0)
    times: int | None = Field(default=None, ge=0)
    rate: float = Field(default=1.0, ge=0, le=1)


class FakeSettings(ProviderSettings):
    type: Literal["fake"] = "fake"
    probe_by_default: ClassVar[bool] = True
    reply: str | None = Field(
        default=None, description="fixed reply; None echoes the last user message"
    )
    latency: float = Field(default=0.0, ge=0, description="seconds before the first byte")
    slow_rate: float = Field(
        default=0.0, ge=0, le=1, description="fraction of calls that take slow_latency instead"
    )
    slow_latency: float = Field(default=1.0, ge=0, description="seconds, for slow_rate calls")
    tokens_per_second: float | None = Field(
        default=None, gt=0, description="streaming speed; None streams at once"
    )
    failure: FakeFailure | None = None
    embedding_dimensions: int = Field(default=8, ge=1, le=MAX_DIMENSIONS)
    seed: int | None = None


_ids = itertools.count(1)


class FakeProvider(Provider[FakeSettings]):
    capabilities: ClassVar[Capabilities] = Capabilities(
        tools=True,
        vision=True,
        documents=True,
        json_mode=True,
        embeddings=True,
        list_models=True,
    )

    def __init__(
        self, name: str, settings: FakeSettings, *, catalog: Catalog | None = None
    ) -> None:
        super().__init__(name, settings, catalog=catalog)
        self.calls = 0
        self.cancelled = 0  # calls cancelled, or streams closed, before their end
        self.requests: deque[ChatRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self._script: deque[str | FakeFailure] = deque()
        self._random = random.Random(settings.seed)

    def script(self, *outcomes: str | FakeFailure) -> None:
        """Queue outcomes for the next calls: a string is a reply, a FakeFailure a fault."""
        self._script.extend(outcomes)

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        reply, failure = self._next_outcome(request)
        try:
            await self._first_byte()
            if failure is not None and failure.mode != "cut_stream":
                await self._fail(failure)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return ChatResponse(
            id=f"fake-{next(_ids)}",
            created=int(time.time()),
            model=request.model,
            provider=self.name,
            choices=[Choice(message=Message(role="assistant", content=reply))],
            usage=_usage(request, reply),
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        chunks = self._stream(request)
        try:
            async for chunk in chunks:
                yield chunk
        except (asyncio.CancelledError, GeneratorExit):
            self.cancelled += 1
            raise
        finally:
            await chunks.aclose()

    async def _stream(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        reply, failure = self._next_outcome(request)
        await self._first_byte()
        if failure is not None and failure.mode != "cut_stream":
            await self._fail(failure)
        chunk_id, created = f"fake-{next(_ids)}", int(time.time())
        pause = 1.0 / self.settings.tokens_per_second if self.settings.tokens_per_second else 0.0
        for n, piece in enumerate(_pieces(reply)):
            if failure is not None and n >= failure.after_chunks:
                raise ProviderUnavailable("fake stream cut mid-way", provider=self.name)
            if pause and n:
                await asyncio.sleep(pause)
            yield ChatChunk(
                id=chunk_id,
                created=created,
                model=request.model,
                role="assistant" if n == 0 else None,
                text=piece,
            )
        if failure is not None:
            raise ProviderUnavailable("fake stream cut mid-way", provider=self.name)
        yield ChatChunk(
            id=chunk_id,
            created=created,
            model=request.model,
            finish_reason="stop",
            usage=_usage(request, reply),
        )

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        self.calls += 1
        dims = request.dimensions or self.settings.embedding_dimensions
        if dims > MAX_DIMENSIONS:
            raise InvalidRequest(
                f"dimensions must be at most {MAX_DIMENSIONS}",
                param="dimensions",
                provider=self.name,
            )
        return EmbeddingResponse(
            model=request.model,
            provider=self.name,
            data=[_pseudo_embedding(text, dims) for text in request.input],
            usage=Usage(input_tokens=sum(len(t.split()) for t in request.input)),
        )

    async def list_models(self) -> list[str]:
        return ["fake-model"]

    async def health_check(self) -> HealthCheck:
        """In-process: there is nothing to reach, so nothing can be down."""
        return "healthy"

    # -- behaviour ----------------------------------------------------------------------------

    def _next_outcome(self, request: ChatRequest) -> tuple[str, FakeFailure | None]:
        self.calls += 1
        self.requests.append(request)
        default_reply = self.settings.reply
        if default_reply is None:
            last_user = next((m for m in reversed(request.messages) if m.role == "user"), None)
            default_reply = last_user.text() if last_user else ""
        if self._script:
            outcome = self._script.popleft()
            if isinstance(outcome, FakeFailure):
                return default_reply, outcome
            return outcome, None
        failure = self.settings.failure
        if failure is None:
            return default_reply, None
        if failure.times is not None and self.calls > failure.times:
            return default_reply, None
        if failure.rate < 1.0 and self._random.random() >= failure.rate:
            return default_reply, None
        return default_reply, failure

    async def _first_byte(self) -> None:
        settings = self.settings
        latency = settings.latency
        if settings.slow_rate and self._random.random() < settings.slow_rate:
            latency = settings.slow_latency
        if latency:
            await asyncio.sleep(latency)

    async def _fail(self, failure: FakeFailure) -> None:
        if failure.mode == "timeout":
            await asyncio.Event().wait()
        if failure.mode == "malformed":
            raise UpstreamProtocolError("fake upstream sent malformed JSON", provider=self.name)
        message = failure.body or f"fake upstream answered {failure.status}"
        raise error_for_status(
            failure.status, message, provider=self.name, retry_after=failure.retry_after
        )


def _pieces(text: str) -> list[str]:
    """Split a reply into word-sized stream pieces that join back to the exact text."""
    if not text:
        return [""]
    pieces: list[str] = []
    start = 0
    for i in range(1, len(text)):
        if text[i] == " " and text[i - 1] != " ":
            pieces.append(text[start:i])
            start = i
    pieces.append(text[start:])
    return pieces


def _usage(request: ChatRequest, reply: str) -> Usage:
    prompt_words = sum(len(m.text().split()) for m in request.messages)
    return Usage(input_tokens=prompt_words, output_tokens=len(reply.split()))


def _pseudo_embedding(text: str, dims: int) -> list[float]:
    """A deterministic unit vector derived from the text (same text, same vector)."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dims)]
    norm = sum(x * x for x in raw) ** 0.5 or 1.0
    return [x / norm for x in raw]


__all__ = ["MAX_DIMENSIONS", "REQUEST_LOG_SIZE", "FakeFailure", "FakeProvider", "FakeSettings"]
