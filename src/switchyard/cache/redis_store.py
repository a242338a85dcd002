"""The shared cache: entries and counters in Redis, so every replica serves every answer.

Keys (``prefix`` is ``cache.prefix``, ``switchyard:cache:`` by default):

- ``{prefix}e:{ns}:{alias}:{digest}``: an entry, a hash (``b`` the answer, ``c`` its cost),
  expiring after its TTL (Redis's own expiry: no clock of ours is involved);
- ``{prefix}s:{ns}``: a namespace's counters, a hash (``hits``, ``misses``, ``saved``);
- ``{prefix}v:{ns}:{alias}:{context}``: the semantic cache's vectors of one conversation
  context, a hash (entry digest -> its expiry time and float32 unit vector), at most the
  alias's ``semantic.max_entries`` of them (a search reads them all: a bounded scan; the
  RediSearch module is not used).

``ns`` is ``-`` for the admin's namespace and the tenant's name in hex otherwise, ``alias`` the
first 16 hex digits of the alias's sha256: neither can hold a glob character, so clearing an
alias or a tenant is one ``SCAN MATCH`` pattern. A lookup is one round trip: a script reads the
entry and counts the hit (with what it saved) or the miss.

**Redis outage: fail open.** Any failure (refused, timed out after ``timeout_seconds``, an
error reply) makes a lookup a miss and a store a no-op; it is counted (``errors``), logged at
WARNING at most once per ``log_interval`` (host and port only, never a password), and Redis is
not asked again for ``reconnect_interval`` seconds, so an unreachable Redis adds no
per-request timeouts. The client reconnects by itself: no restart is needed. ``stats`` and
``clear`` raise :class:`~switchyard.errors.StorageUnavailable` instead, so an operator sees it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
import time
from array import array
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchyard.cache.keys import CacheKey
from switchyard.cache.store import StoreStats
from switchyard.errors import StorageUnavailable

logger = logging.getLogger("switchyard.cache")

# ARGV[1]: '1' counts the hit or miss
_FETCH = """
local r = redis.call('HMGET', KEYS[1], 'b', 'c')
if ARGV[1] ~= '1' then return r[1] end
if r[1] then
  redis.call('HINCRBY', KEYS[2], 'hits', 1)
  if r[2] and r[2] ~= '' then redis.call('HINCRBYFLOAT', KEYS[2], 'saved', r[2]) end
  return r[1]
end
redis.call('HINCRBY', KEYS[2], 'misses', 1)
return false
"""
_EXPIRY = struct.Struct("<d")  # a vector's expiry (unix seconds), before its float32 values

_SCAN_BATCH = 500
_SCAN_LIMIT = 1_000_000  # keys looked at by one stats or clear call at most


def _namespace(tenant: str | None) -> str:
    return "-" if tenant is None else tenant.encode().hex()


def _alias_tag(alias: str) -> str:
    return hashlib.sha256(alias.encode()).hexdigest()[:16]


class RedisStore:
    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "switchyard:cache:",
        timeout: float = 0.25,
        reconnect_interval: float = 1.0,
        log_interval: float = 60.0,
        client: Redis | None = None,
    ) -> None:
        self.prefix = prefix
        self.reconnect_interval = reconnect_interval
        self.log_interval = log_interval
        self.errors = 0
        self._where = _safe_location(url)
        self._owns_client = client is None
        self.client: Redis = client or Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._fetch = self.client.register_script(_FETCH)
        self._skip_until = 0.0
        self._logged_at = -math.inf

    def entry_key(self, key: CacheKey) -> str:
        return f"{self.prefix}e:{_namespace(key.tenant)}:{_alias_tag(key.alias)}:{key.digest}"

    def _stats_key(self, tenant: str | None) -> str:
        return f"{self.prefix}s:{_namespace(tenant)}"

    # -- the request path (fails open) ----------------------------------------------------------

    def _vector_key(self, scope: CacheKey) -> str:
        return f"{self.prefix}v:{_namespace(scope.tenant)}:{_alias_tag(scope.alias)}:{scope.digest}"

    async def fetch(self, key: CacheKey, *, count: bool = True) -> bytes | None:
        if self._skipping():
            return None
        keys = [self.entry_key(key), self._stats_key(key.tenant)]
        try:
            blob = await self._fetch(keys, ["1" if count else "0"])
        except (RedisError, OSError) as exc:
            self._unreachable(exc)
            return None
        return blob if isinstance(blob, bytes) else None

    async def count(self, tenant: str | None, *, hit: bool, saved: float | None) -> None:
        if self._skipping():
            return
        name = self._stats_key(tenant)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hincrby(name, "hits" if hit else "misses", 1)
                if hit and saved:
                    pipe.hincrbyfloat(name, "saved", saved)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._unreachable(exc)

    async def vectors(self, scope: CacheKey) -> list[tuple[str, array[float]]]:
        if self._skipping():
            return []
        try:
            rows: dict[Any, Any] = await self.client.hgetall(self._vector_key(scope))
        except (RedisError, OSError) as exc:
            self._unreachable(exc)
            return []
        now, found = time.time(), []
        for digest, value in rows.items():
            if len(value) > _EXPIRY.size and _EXPIRY.unpack_from(value)[0] > now:
                vector = array("f")
                vector.frombytes(value[_EXPIRY.size :])
                found.append((digest.decode(), vector))
        return found

    async def add_vector(
        self, scope: CacheKey, digest: str, vector: array[float], ttl: float, limit: int
    ) -> None:
        if self._skipping():
            return
        name, ms = self._vector_key(scope), max(int(ttl * 1000), 1)
        value = _EXPIRY.pack(time.time() + ttl) + vector.tobytes()
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hset(name, digest, value)
                pipe.pexpire(name, ms, nx=True)
                pipe.pexpire(name, ms, gt=True)
                pipe.hlen(name)
                *_, size = await pipe.execute()
            if int(size) > limit:  # the oldest (soonest to expire) go first
                rows: dict[Any, Any] = await self.client.hgetall(name)
                by_expiry = sorted(rows, key=lambda d: _EXPIRY.unpack_from(rows[d])[0])
                surplus = by_expiry[: len(rows) - limit]
                if surplus:
                    await self.client.hdel(name, *surplus)
        except (RedisError, OSError) as exc:
            self._unreachable(exc)

    async def put(self, key: CacheKey, blob: bytes, cost: float | None, ttl: float) -> None:
        if self._skipping():
            return
        name = self.entry_key(key)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.hset(name, mapping={"b": blob, "c": "" if cost is None else repr(cost)})
                pipe.pexpire(name, max(int(ttl * 1000), 1))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._unreachable(exc)

    # -- operations (raise when Redis is down) ------------------------------------------------

    async def stats(self, tenant: str | None, *, every: bool) -> StoreStats:
        ns = "*" if every else _namespace(tenant)
        total = StoreStats()
        try:
            for name in await self._scan(f"{self.prefix}s:{ns}"):
                row = await self.client.hgetall(name)
                total.hits += int(row.get(b"hits", 0))
                total.misses += int(row.get(b"misses", 0))
                total.saved_usd += float(row.get(b"saved", 0.0))
            entries = await self._scan(f"{self.prefix}e:{ns}:*")
            for start in range(0, len(entries), _SCAN_BATCH):
                async with self.client.pipeline(transaction=False) as pipe:
                    for name in entries[start : start + _SCAN_BATCH]:
                        pipe.hstrlen(name, "b")
                    sizes: list[Any] = await pipe.execute()
                total.entries += sum(1 for size in sizes if size)
                total.bytes += sum(int(size) for size in sizes)
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc
        return total

    async def clear(self, *, alias: str | None, tenant: str | None, every: bool) -> int:
        ns = "*" if every else _namespace(tenant)
        tag = "*" if alias is None else _alias_tag(alias)
        try:
            names = await self._scan(f"{self.prefix}e:{ns}:{tag}:*")
            removed = 0
            for start in range(0, len(names), _SCAN_BATCH):
                removed += int(await self.client.unlink(*names[start : start + _SCAN_BATCH]))
            vectors = await self._scan(f"{self.prefix}v:{ns}:{tag}:*")
            for start in range(0, len(vectors), _SCAN_BATCH):
                await self.client.unlink(*vectors[start : start + _SCAN_BATCH])
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc
        return removed

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    # -- helpers --------------------------------------------------------------------------------

    async def _scan(self, pattern: str) -> list[bytes]:
        names: list[bytes] = []
        async for name in self.client.scan_iter(match=pattern, count=_SCAN_BATCH):
            names.append(name)
            if len(names) >= _SCAN_LIMIT:
                break
        return names

    def _skipping(self) -> bool:
        return self._skip_until > 0 and time.monotonic() < self._skip_until

    def _unreachable(self, exc: BaseException) -> None:
        self.errors += 1
        now = time.monotonic()
        self._skip_until = now + self.reconnect_interval
        if now - self._logged_at >= self.log_interval:
            self._logged_at = now
            logger.warning(
                "response cache %s unreachable (%s: %.200s); serving without the cache for now",
                self._where,
                type(exc).__name__,
                str(exc),
            )

    def _unavailable(self, exc: BaseException) -> StorageUnavailable:
        self._unreachable(exc)
        return StorageUnavailable(
            f"the response cache ({self._where}) is unreachable: {type(exc).__name__}"
        )


def _safe_location(url: str) -> str:
    """``redis://host:port/db`` without user or password, for log lines and errors."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


__all__ = ["RedisStore"]
