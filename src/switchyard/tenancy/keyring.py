"""Virtual keys to Principals, without a database round trip per request.

Every request with an ``sk-sy-`` key comes through :meth:`KeyRing.authenticate`, so its hit path
is one SHA-256 of the token, one dict lookup and a few comparisons. A key is looked up in the
database at most once per ``storage.key_cache_seconds`` per replica:

- **Cache**: keyed by the SHA-256 of the whole token (the secret itself is never kept), bounded
  (least recently used out). Tokens that are not keys (unknown, revoked, or a wrong secret for a
  real id) are cached too, in their own smaller LRU, so a flood of bad keys neither reaches the
  database nor pushes good keys out.
- **Single flight**: concurrent misses for one token share one lookup (a shielded task: the
  caller that started it may leave without cancelling it for the others).
- **Checks**: the stored hash is compared in constant time; the key's expiry is checked on
  every request (a cached key expires on time, not at its next lookup).
- **Revocation**: :meth:`forget` drops a key at once (an :class:`~switchyard.tenancy.accounts.
  Accounts` revoke listener, and the Redis announcer's callback: every replica). A lookup that
  was in flight when a key was forgotten answers its callers but is not cached.
- **Database down**: a cached entry past its TTL is still used (a warning, at most one every
  ``warn_interval`` seconds); a key never seen gets 503 ``storage_unavailable``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from switchyard.errors import AuthenticationError, StorageUnavailable
from switchyard.tenancy.accounts import Accounts
from switchyard.tenancy.secrets import key_id_of
from switchyard.types import Principal
from switchyard.types.grants import Grant

log = logging.getLogger("switchyard.keys")

INVALID = "invalid API key: send a valid key as 'Authorization: Bearer <key>' or 'x-api-key'"
REVOKED = "this API key has been revoked"
EXPIRED = "this API key has expired"


class _Key(NamedTuple):
    """A valid key as cached: what its Principal carries, and when it was looked up."""

    key_id: str
    expires_at: float | None  # wall clock; None: never
    fetched: float  # monotonic
    # the Principal's fields after its request id, up to its client address: (tenant, key_id,
    # user, tags, admin, grant)
    fields: tuple[str, str, str | None, tuple[str, ...], bool, Grant]


class _Refusal(NamedTuple):
    """A token that is no (usable) key, cached so it is not looked up again within the TTL."""

    key_id: str
    message: str
    fetched: float


class KeyRing:
    def __init__(
        self,
        accounts: Accounts,
        *,
        ttl: float = 1.0,
        max_keys: int = 10_000,
        max_refusals: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        warn_interval: float = 30.0,
    ) -> None:
        self.accounts = accounts
        self.ttl = ttl
        self.max_keys = max_keys
        self.max_refusals = max_refusals
        self._clock = clock
        self._wall = wall
        self._warn_interval = warn_interval
        self._warned_at = float("-inf")
        self._keys: OrderedDict[bytes, _Key] = OrderedDict()
        self._refusals: OrderedDict[bytes, _Refusal] = OrderedDict()
        self._by_id: dict[str, bytes] = {}  # key id -> its cached digest (valid keys only)
        self._inflight: dict[bytes, asyncio.Task[_Key | _Refusal]] = {}
        self._epoch = 0  # bumped by every forget: lookups begun before it are not cached
        self.lookups = 0  # database lookups made (for tests and the bench)

    def __len__(self) -> int:
        return len(self._keys) + len(self._refusals)

    async def authenticate(self, token: bytes, request_id: str) -> Principal:
        """The Principal of a virtual key, or 401 (unknown, revoked, expired, malformed), or
        503 when the database is needed and does not answer."""
        digest = hashlib.sha256(token).digest()
        entry: _Key | _Refusal | None = self._keys.get(digest)
        if entry is None:
            entry = self._refusals.get(digest)
        if entry is None or self._clock() - entry.fetched >= self.ttl:
            entry = await self._refresh(token, digest, entry)
        elif type(entry) is _Key:
            self._keys.move_to_end(digest)
        if type(entry) is _Refusal:
            raise AuthenticationError(entry.message)
        assert type(entry) is _Key
        if entry.expires_at is not None and self._wall() >= entry.expires_at:
            raise AuthenticationError(EXPIRED)
        # tuple.__new__ skips the named tuple's Python-level __new__: this runs on every request
        # client and trace: the guard's to set
        return tuple.__new__(Principal, (request_id, *entry.fields, None, None))

    async def forget(self, key_id: str) -> None:
        """Drop the key with this id now (it was revoked here or on another replica)."""
        self._epoch += 1
        self._inflight.clear()  # a request from now on looks the key up afresh
        digest = self._by_id.pop(key_id, None)
        if digest is not None:
            self._keys.pop(digest, None)

    def clear(self) -> None:
        """Drop everything (revocations may have been missed: look every key up again)."""
        self._epoch += 1
        self._keys.clear()
        self._refusals.clear()
        self._by_id.clear()

    # -- the miss path ------------------------------------------------------------------------

    async def _refresh(
        self, token: bytes, digest: bytes, stale: _Key | _Refusal | None
    ) -> _Key | _Refusal:
        key_id = key_id_of(token)
        if key_id is None:  # not even shaped like a key: nothing to look up, nothing to cache
            return _Refusal("", INVALID, self._clock())
        task = self._inflight.get(digest)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._lookup(key_id, digest))
            self._inflight[digest] = task
            task.add_done_callback(partial(self._landed, digest))
        try:
            return await asyncio.shield(task)
        except StorageUnavailable:
            if stale is None:
                raise
            self._warn_stale()
            return stale

    def _landed(self, digest: bytes, task: asyncio.Task[_Key | _Refusal]) -> None:
        if self._inflight.get(digest) is task:
            del self._inflight[digest]
        if not task.cancelled():
            task.exception()  # retrieved: its callers may all have left before it failed

    async def _lookup(self, key_id: str, digest: bytes) -> _Key | _Refusal:
        epoch = self._epoch
        self.lookups += 1
        found = await self.accounts.resolve(key_id)
        now = self._clock()
        entry: _Key | _Refusal
        if found is None or not hmac.compare_digest(found[0].hash, digest.hex()):
            entry = _Refusal(key_id, INVALID, now)
        elif found[0].revoked_at is not None:
            entry = _Refusal(key_id, REVOKED, now)
        else:
            row, grant = found
            fields = (row.tenant, key_id, row.user, (), False, grant)
            entry = _Key(key_id, grant.expires_at, now, fields)
        if epoch == self._epoch:  # no forget since the lookup began: its answer is current
            self._store(digest, entry)
        return entry

    def _store(self, digest: bytes, entry: _Key | _Refusal) -> None:
        if isinstance(entry, _Key):
            self._refusals.pop(digest, None)
            self._keys[digest] = entry
            self._keys.move_to_end(digest)
            self._by_id[entry.key_id] = digest
            while len(self._keys) > self.max_keys:
                gone, evicted = self._keys.popitem(last=False)
                if self._by_id.get(evicted.key_id) == gone:
                    del self._by_id[evicted.key_id]
        else:
            if self._keys.pop(digest, None) is not None:
                self._by_id.pop(entry.key_id, None)
            self._refusals[digest] = entry
            self._refusals.move_to_end(digest)
            while len(self._refusals) > self.max_refusals:
                self._refusals.popitem(last=False)

    def _warn_stale(self) -> None:
        now = self._clock()
        if now - self._warned_at >= self._warn_interval:
            self._warned_at = now
            log.warning(
                "the key database did not answer: using keys as last looked up (a key revoked "
                "since then may be accepted until the database is back)"
            )


__all__ = ["KeyRing"]
