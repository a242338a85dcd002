"""Revoked keys announced to every replica at once, over a Redis pub/sub channel.

Each replica caches the keys it looked up for ``storage.key_cache_seconds``
(:class:`~switchyard.tenancy.keyring.KeyRing`); a revocation made on one replica is published
here and every subscribed replica (that one included) forgets the key within milliseconds.
Attaching it to the accounts is one line::

    accounts.revoke_listeners.append(broadcast.publish)

A process that only revokes (``switchyard keys revoke``) builds it without callbacks, never
starts it, and closes it when done: ``RevocationBroadcast(url)``, then ``await
broadcast.aclose()``. The Gateway wires its own (``gateway.revocations``) when
``storage.redis_url`` is set.

Redis is a shortcut, never the source of truth: the revocation is in the database first. When
Redis does not answer, a publish logs a warning and the revoke still succeeds; the subscriber
reconnects with backoff, and on every (re)subscription the replica's whole cache is dropped,
since a revocation may have been missed meanwhile. While unsubscribed, the cache TTL still
bounds how long a revoked key is accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchyard.tenancy.secrets import ID_HEX

log = logging.getLogger("switchyard.keys")

CHANNEL = "switchyard:keys:revoked"
_KEY_ID = re.compile(f"[0-9a-f]{{{ID_HEX}}}")


class RevocationBroadcast:
    def __init__(
        self,
        url: str,
        on_revoked: Callable[[str], Awaitable[None]] | None = None,
        on_resubscribed: Callable[[], None] | None = None,
        *,
        channel: str = CHANNEL,
        timeout: float = 0.5,
        backoff: tuple[float, float] = (0.1, 5.0),
        log_interval: float = 60.0,
        client_name: str = "switchyard-key-revocations",
    ) -> None:
        self.channel = channel
        self.on_revoked = on_revoked or _nothing
        self.on_resubscribed = on_resubscribed or (lambda: None)
        self._where = safe_location(url)
        self._publisher = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        # the subscriber waits for messages: no read timeout, but a ping now and then
        self._subscriber = Redis.from_url(
            url, socket_connect_timeout=timeout, health_check_interval=10, client_name=client_name
        )
        self._backoff = backoff
        self._log_interval = log_interval
        self._logged_at = -math.inf
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()  # set while this replica hears announcements

    async def publish(self, key_id: str) -> None:
        """Tell every replica the key ``key_id`` is revoked (a revoke listener: never raises)."""
        try:
            await self._publisher.publish(self.channel, key_id)
        except (RedisError, OSError) as exc:
            log.warning(
                "could not announce the revocation of key %s on %s (%s); other replicas refuse "
                "it once their key cache expires",
                key_id,
                self._where,
                type(exc).__name__,
            )

    async def start(self, wait: float = 1.0) -> None:
        """Subscribe in the background; wait up to ``wait`` seconds for the first subscription,
        so a replica that is ready also listens (unless Redis is down: then it starts anyway)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.subscribed.wait(), wait)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._publisher.aclose()
        await self._subscriber.aclose()

    async def _listen(self) -> None:
        delay = self._backoff[0]
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.on_resubscribed()  # anything revoked while deaf is looked up again
                    self.subscribed.set()
                    delay = self._backoff[0]
                    while True:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=5.0
                        )
                        if message is not None and message.get("type") == "message":
                            await self._heard(message.get("data"))
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                self._complain(exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])

    async def _heard(self, data: object) -> None:
        key_id = data.decode("ascii", "replace") if isinstance(data, bytes) else str(data)
        if _KEY_ID.fullmatch(key_id):  # anything else on the channel is not ours
            await self.on_revoked(key_id)

    def _complain(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._logged_at >= self._log_interval:
            self._logged_at = now
            log.warning(
                "not subscribed to key revocations on %s (%s); retrying. Meanwhile a key "
                "revoked elsewhere is refused here once the key cache expires",
                self._where,
                type(exc).__name__,
            )


async def _nothing(key_id: str) -> None:
    """A replica that only announces (the CLI) has no cache to drop."""


def safe_location(url: str) -> str:
    """``redis://host:port/db`` without user or password, for log lines."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{port}{parts.path}"


__all__ = ["CHANNEL", "RevocationBroadcast", "safe_location"]
