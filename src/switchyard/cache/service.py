"""The response cache as the Gateway uses it: whether a request is looked up, what a hit
answers, what is stored and for how long, and the operators' stats and clear.

Caching is on for a request when the config has a ``cache:`` section, the alias asked for does
not say ``cache: {enabled: false}``, it asks for one choice (``n`` unset or 1), and the
request did not say ``no_cache`` (then it is still stored, unless ``no_store``). The TTL of a
stored answer is the request's ``ttl``, else the alias's ``ttl_seconds``, else the global one.

**Semantic cache** (``cache: {semantic: ...}`` on an alias): after an exact miss, the last user
message(s) are embedded through the Gateway's own embed path (``embed``: the configured
embedding alias, its usage recorded like any request's) and compared with the vectors of the
answers stored for the same context (see :mod:`switchyard.cache.vectors`) in the caller's
namespace only; the most similar at or above ``threshold`` answers, with its similarity. An
embedding that fails is logged (at most once a minute) and the request goes on as a miss.

A hit is an answer like any other for the caller, and for the record: ``cache_hit`` true,
provider and model of the stored answer, cost 0, ``cost_saved`` what the answer had cost, no
tokens used (nothing was asked of any upstream, so no limit's token count and no budget is
charged) and the gateway's own latency.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from switchyard.cache.entry import CachedAnswer
from switchyard.cache.keys import CacheKey, cache_key
from switchyard.cache.memory import MemoryStore
from switchyard.cache.settings import AliasCacheSettings, CacheSettings, SemanticSettings
from switchyard.cache.store import CacheStore, StoreStats
from switchyard.cache.vectors import Vector, best_match, scope_of, semantic_text, unit
from switchyard.errors import SwitchyardError
from switchyard.records.record import RequestRecord
from switchyard.types import CacheStatus, ChatChunk, ChatRequest, ChatResponse, Cost, Principal

log = logging.getLogger("switchyard.cache")

# (embedding model, text, the caller) -> the text's embedding, through the Gateway's embed path
Embed = Callable[[str, str, Principal], Awaitable[Sequence[float]]]
_LOG_INTERVAL = 60.0


@dataclass(slots=True)
class CacheLookup:
    """What the lookup stage found for one request, and what the store stage may do."""

    status: CacheStatus
    key: CacheKey | None = None
    hit: CachedAnswer | None = None
    ttl: float = 0.0  # seconds a stored answer is kept; 0: do not store
    similarity: float | None = None  # a semantic hit's
    vector: Vector | None = None  # the semantic cache's: stored with the answer
    scope: CacheKey | None = None
    semantic: SemanticSettings | None = None

    @property
    def stores(self) -> bool:
        return self.key is not None and self.ttl > 0


SKIP = CacheLookup("skip")


@dataclass(slots=True)
class CacheStats:
    backend: str
    tenant: str | None  # None with ``every``: all namespaces
    every: bool
    stats: StoreStats
    errors: int

    @property
    def hit_rate(self) -> float:
        looked = self.stats.hits + self.stats.misses
        return self.stats.hits / looked if looked else 0.0


class ResponseCache:
    def __init__(
        self,
        settings: CacheSettings,
        store: CacheStore,
        aliases: Mapping[str, AliasCacheSettings | None] | None = None,
        *,
        embed: Embed | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._aliases = dict(aliases or {})
        self._embed = embed
        self._embed_logged_at = -math.inf

    @classmethod
    def build(
        cls,
        settings: CacheSettings,
        aliases: Mapping[str, AliasCacheSettings | None] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        embed: Embed | None = None,
    ) -> ResponseCache:
        store: CacheStore
        if settings.backend == "redis":
            from switchyard.cache.redis_store import RedisStore

            assert settings.url is not None  # the settings require it
            store = RedisStore(
                settings.url, prefix=settings.prefix, timeout=settings.timeout_seconds
            )
        else:
            store = MemoryStore(
                max_entries=settings.max_entries, max_bytes=settings.max_bytes, clock=clock
            )
        return cls(settings, store, aliases, embed=embed)

    @property
    def backend(self) -> str:
        return self.store.backend

    # -- lookup -------------------------------------------------------------------------------

    async def lookup(self, request: ChatRequest, principal: Principal) -> CacheLookup:
        ttl = self._ttl(request)
        if ttl is None:
            return SKIP
        control = request.cache
        key = cache_key(request, principal.tenant)
        if control is not None and control.no_store:
            ttl = 0.0
        if control is not None and control.no_cache:
            return CacheLookup("skip", key, None, ttl)
        alias = self._aliases.get(request.model)
        semantic = alias.semantic if alias is not None else None
        blob = await self.store.fetch(key, count=semantic is None)
        hit = CachedAnswer.decode(blob) if blob is not None else None
        if semantic is None:
            return CacheLookup("hit" if hit is not None else "miss", key, hit, ttl)
        lookup = CacheLookup("miss", key, hit, ttl, semantic=semantic)
        if hit is None:
            await self._semantic(request, principal, lookup, semantic)
        if lookup.hit is not None:
            lookup.status = "hit"
        saved = None if lookup.hit is None else lookup.hit.cost
        await self.store.count(key.tenant, hit=lookup.hit is not None, saved=saved)
        return lookup

    async def _semantic(
        self,
        request: ChatRequest,
        principal: Principal,
        lookup: CacheLookup,
        semantic: SemanticSettings,
    ) -> None:
        """Look for a similar request's answer; note the vector for the store stage."""
        compared = semantic_text(request)
        if compared is None or self._embed is None:
            return
        text, context = compared
        try:
            vector = unit(await self._embed(semantic.embedding_model, text, principal))
        except SwitchyardError as exc:
            now = time.monotonic()
            if now - self._embed_logged_at >= _LOG_INTERVAL:
                self._embed_logged_at = now
                log.warning(
                    "semantic cache: embedding with %r failed (%s); looked up exactly only",
                    semantic.embedding_model,
                    exc.code,
                )
            return
        if vector is None:
            return
        lookup.vector, lookup.scope = vector, scope_of(context, principal.tenant)
        found = best_match(vector, await self.store.vectors(lookup.scope), semantic.threshold)
        if found is None:
            return
        digest, similarity = found
        assert lookup.key is not None
        blob = await self.store.fetch(lookup.key._replace(digest=digest), count=False)
        hit = CachedAnswer.decode(blob) if blob is not None else None
        if hit is not None:
            lookup.hit, lookup.similarity = hit, similarity

    def _ttl(self, request: ChatRequest) -> float | None:
        """The TTL of this request's answer; None: the cache is off for it."""
        if request.n is not None and request.n != 1:
            return None
        alias = self._aliases.get(request.model)
        if alias is not None and not alias.enabled:
            return None
        control = request.cache
        if control is not None and control.ttl is not None:
            return control.ttl
        if alias is not None and alias.ttl_seconds is not None:
            return alias.ttl_seconds
        return self.settings.ttl_seconds

    # -- a hit ----------------------------------------------------------------------------------

    def answer(self, lookup: CacheLookup, record: RequestRecord) -> ChatResponse:
        """A plain reply from the hit; notes the hit on ``record``."""
        assert lookup.hit is not None
        note_hit(lookup.hit, record)
        response = lookup.hit.response(_response_id(record), int(time.time()))
        response.cache_similarity = lookup.similarity
        return response

    def replay(self, lookup: CacheLookup, record: RequestRecord) -> list[ChatChunk]:
        """A stream's chunks from the hit; notes the hit on ``record``."""
        assert lookup.hit is not None
        note_hit(lookup.hit, record)
        return lookup.hit.replay(_response_id(record), int(time.time()))

    # -- store ----------------------------------------------------------------------------------

    async def store_response(self, lookup: CacheLookup, response: ChatResponse) -> None:
        if lookup.stores and len(response.choices) == 1:
            cost = None if response.cost is None else response.cost.total
            await self._put(lookup, CachedAnswer.encode_response(response), cost)

    async def store_chunks(
        self, lookup: CacheLookup, chunks: Sequence[ChatChunk], record: RequestRecord
    ) -> None:
        """A stream that ended normally, as the chunks it was relayed as."""
        if not lookup.stores or not chunks or record.provider is None:
            return
        cost = None if record.cost is None else record.cost.total
        answer = CachedAnswer(record.provider, record.model or "", cost, list(chunks))
        await self._put(lookup, answer.encode(), cost)

    async def _put(self, lookup: CacheLookup, blob: bytes, cost: float | None) -> None:
        assert lookup.key is not None
        if len(blob) > self.settings.max_entry_bytes:
            return
        await self.store.put(lookup.key, blob, cost, lookup.ttl)
        if lookup.vector is not None and lookup.scope is not None and lookup.semantic:
            await self.store.add_vector(
                lookup.scope,
                lookup.key.digest,
                lookup.vector,
                lookup.ttl,
                lookup.semantic.max_entries,
            )

    # -- operations -----------------------------------------------------------------------------

    async def stats(self, tenant: str | None = None, *, every: bool = True) -> CacheStats:
        stats = await self.store.stats(tenant, every=every)
        return CacheStats(self.backend, None if every else tenant, every, stats, self.store.errors)

    async def clear(
        self, *, alias: str | None = None, tenant: str | None = None, every: bool = True
    ) -> int:
        removed = await self.store.clear(alias=alias, tenant=tenant, every=every)
        log.info(
            "response cache cleared: %d entries (alias=%s, tenant=%s)",
            removed,
            alias or "*",
            "*" if every else tenant,
        )
        return removed

    async def aclose(self) -> None:
        await self.store.aclose()


def note_hit(hit: CachedAnswer, record: RequestRecord) -> None:
    record.cache_hit = True
    record.provider, record.model = hit.provider, hit.model
    record.cost, record.cost_saved, record.priced = Cost(), hit.saved, True


def _response_id(record: RequestRecord) -> str:
    return f"chatcmpl-{record.request_id}"


__all__ = ["SKIP", "CacheLookup", "CacheStats", "ResponseCache", "note_hit"]
