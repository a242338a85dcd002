"""Circuit breakers whose state lives in Redis, so every replica sees the same breaker.

The semantics are :class:`~switchyard.resilience.breaker.CircuitBreaker`'s, transition for
transition (consecutive failures, the optional error-rate window, ``open`` -> ``half_open``
after ``recovery_timeout`` with exactly one trial, success closes, failure re-opens); each
operation is one Lua script, so it is atomic and costs one round trip. Two replicas racing for
the half-open trial cannot both win: the script that flips ``trial`` to 1 runs alone.

Keys, for the deployment ``provider/model`` (the braces are a Redis Cluster hash tag, so the
three keys of one breaker live on one shard and a script may touch them together):

- ``switchyard:breaker:{provider/model}``: a hash (``state``, ``failures``, ``opened_at``,
  ``trial``, ``trial_at``, ``recovery``, ``window``, ``seq``);
- ``...:ok`` and ``...:fail``: sorted sets of outcomes scored by time, only when an
  ``error_rate_threshold`` is set (trimmed to ``window_seconds`` on every write).

Every write refreshes a TTL (``ttl`` seconds, an hour by default and never less than a few
recovery timeouts): a breaker nobody used for that long is forgotten, i.e. closed.

**Time.** By default the scripts read the Redis server's ``TIME``, so replicas agree on when a
breaker opened whatever their own clocks say. Pass ``clock=`` to use your own instead (the
value is sent to every script as an argument): tests drive every transition with it, without
sleeping. All replicas sharing a prefix must use the same kind of time.

**Half-open trial lease.** A replica that dies while holding the trial cannot report it, so a
trial older than ``trial_lease`` seconds no longer blocks the next one.

**Redis outage: fail open.** When Redis cannot be reached (or answers with an error), ``allow``
admits the request and the ``record_*`` calls are dropped: a breaker-store outage degrades the
gateway to "no circuit breaking", it never takes it down. The failure is logged at WARNING at
most once per ``log_interval`` seconds (host and port only, never the URL's password), and
Redis is not asked again for ``reconnect_interval`` seconds, so an unreachable Redis adds no
per-request connect timeouts. The admin operations (``reset``, ``views``) raise
:class:`BreakerStoreUnavailable` instead, so an operator sees the outage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from switchyard.errors import ProviderUnavailable
from switchyard.resilience.breaker import BreakerView, State
from switchyard.resilience.settings import BreakerSettings

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "switchyard:breaker:"

# ARGV, shared by the scripts that change state:
#   1 now ('' = the server's TIME)   2 failure_threshold   3 recovery_timeout
#   4 error_rate_threshold ('' = none)   5 window_seconds   6 min_requests   7 ttl (seconds)
#   8 trial lease (seconds)
# KEYS: 1 the state hash, 2 successes (zset), 3 failures (zset)
_PRELUDE = """
local function clock()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.6f', x) end
local function remember(now, ok)
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('ZADD', ok and KEYS[2] or KEYS[3], fmt(now), seq)
  local horizon = '(' .. fmt(now - tonumber(ARGV[5]))
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', horizon)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', horizon)
  redis.call('EXPIRE', KEYS[2], ARGV[7])
  redis.call('EXPIRE', KEYS[3], ARGV[7])
end
"""

_ALLOW = (
    _PRELUDE
    + """
local s = redis.call('HMGET', KEYS[1], 'state', 'opened_at', 'trial', 'trial_at')
local state = s[1]
if not state or state == 'closed' then return 1 end
local now = clock()
if state == 'open' then
  if now - tonumber(s[2]) < tonumber(ARGV[3]) then return 0 end
elseif s[3] == '1' and now - tonumber(s[4] or '0') < tonumber(ARGV[8]) then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'half_open', 'trial', '1', 'trial_at', fmt(now))
redis.call('EXPIRE', KEYS[1], ARGV[7])
return 2
"""
)

_SUCCESS = (
    _PRELUDE
    + """
local s = redis.call('HMGET', KEYS[1], 'state', 'failures')
local state = s[1]
local windowed = ARGV[4] ~= ''
if (not state or state == 'closed') and (not s[2] or s[2] == '0') and not windowed then
  return 'closed'
end
if state and state ~= 'closed' then redis.call('DEL', KEYS[2], KEYS[3]) end
redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', '0', 'trial', '0',
           'recovery', ARGV[3], 'window', ARGV[5])
if windowed then remember(clock(), true) end
redis.call('EXPIRE', KEYS[1], ARGV[7])
return 'closed'
"""
)

_FAILURE = (
    _PRELUDE
    + """
local now = clock()
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local exceeded = false
if ARGV[4] ~= '' then
  remember(now, false)
  local ok = redis.call('ZCARD', KEYS[2])
  local bad = redis.call('ZCARD', KEYS[3])
  local total = ok + bad
  exceeded = total >= tonumber(ARGV[6]) and bad / total >= tonumber(ARGV[4])
end
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'half_open' or failures >= tonumber(ARGV[2]) or exceeded then
  state = 'open'
  redis.call('HSET', KEYS[1], 'opened_at', fmt(now))
end
redis.call('HSET', KEYS[1], 'state', state, 'trial', '0', 'recovery', ARGV[3],
           'window', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return state
"""
)

_RELEASE = """
if redis.call('HGET', KEYS[1], 'trial') == '1' then
  redis.call('HSET', KEYS[1], 'trial', '0')
end
return 1
"""

# ARGV: 1 now ('' = TIME). Returns {state, failures, error_rate, opened_ago, retry_in} with ''
# for "none".
_VIEW = """
local s = redis.call('HMGET', KEYS[1], 'state', 'failures', 'opened_at', 'recovery', 'window')
if not s[1] then return {'closed', '0', '', '', ''} end
local now
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local rate = ''
if s[5] then
  local horizon = string.format('%.6f', now - tonumber(s[5]))
  local ok = redis.call('ZCOUNT', KEYS[2], horizon, '+inf')
  local bad = redis.call('ZCOUNT', KEYS[3], horizon, '+inf')
  if ok + bad > 0 then rate = string.format('%.6f', bad / (ok + bad)) end
end
local ago, retry = '', ''
if s[1] == 'open' then
  local elapsed = now - tonumber(s[3])
  ago = string.format('%.6f', elapsed)
  retry = string.format('%.6f', math.max(tonumber(s[4]) - elapsed, 0))
end
return {s[1], s[2] or '0', rate, ago, retry}
"""


class BreakerStoreUnavailable(ProviderUnavailable):
    """The shared breaker store (Redis) could not be reached for an admin operation."""

    code = "breaker_store_unavailable"
    retryable = False


class RedisBreakers:
    """A :class:`~switchyard.resilience.breaker.BreakerStore` shared through Redis."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] | None = None,
        timeout: float = 0.25,
        trial_lease: float = 120.0,
        ttl: float = 3600.0,
        reconnect_interval: float = 1.0,
        log_interval: float = 60.0,
        client: Redis | None = None,
    ) -> None:
        self.prefix = prefix
        self.clock = clock
        self.trial_lease = trial_lease
        self.ttl = ttl
        self.reconnect_interval = reconnect_interval
        self.log_interval = log_interval
        self._where = _safe_location(url)
        self._owns_client = client is None
        self.client: Redis = client or Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._allow = self.client.register_script(_ALLOW)
        self._success = self.client.register_script(_SUCCESS)
        self._failure = self.client.register_script(_FAILURE)
        self._release = self.client.register_script(_RELEASE)
        self._view = self.client.register_script(_VIEW)
        self._trials: set[str] = set()  # keys whose half-open trial this replica holds
        self._skip_until = 0.0  # time.monotonic(): Redis failed, do not ask before then
        self._logged_at = -math.inf

    # -- the hot path (fails open) ------------------------------------------------------------

    async def allow(self, key: str, settings: BreakerSettings) -> bool:
        if self._skipping():
            return True
        try:
            verdict = await self._allow(self._keys(key), self._args(settings))
        except (RedisError, OSError) as exc:
            self._unreachable(exc)
            return True
        if verdict == 2:  # this request is the half-open trial
            self._trials.add(key)
        return bool(verdict)

    async def record_success(self, key: str, settings: BreakerSettings) -> None:
        self._trials.discard(key)
        await self._write(self._success, key, settings)

    async def record_failure(self, key: str, settings: BreakerSettings) -> None:
        self._trials.discard(key)
        await self._write(self._failure, key, settings)

    async def release(self, key: str, settings: BreakerSettings) -> None:
        """Free the half-open trial, when this replica holds it (another replica's trial is
        left alone); otherwise there is nothing to release and Redis is not asked."""
        if key not in self._trials:
            return
        self._trials.discard(key)
        if self._skipping():
            return
        try:
            await self._release(self._keys(key), [])
        except (RedisError, OSError) as exc:
            self._unreachable(exc)

    # -- operations (raise when Redis is down) ------------------------------------------------

    async def reset(self, key: str) -> bool:
        """Forget the breaker (closed, no history); True when there was state to forget."""
        self._trials.discard(key)
        try:
            removed = await self.client.delete(*self._keys(key))
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc
        return bool(removed)

    async def views(self, keys: list[str]) -> list[BreakerView]:
        now = "" if self.clock is None else repr(self.clock())
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    await self._view(self._keys(key), [now], client=pipe)
                rows: list[list[Any]] = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc
        return [_view(key, row) for key, row in zip(keys, rows, strict=True)]

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    # -- helpers --------------------------------------------------------------------------------

    def _keys(self, key: str) -> list[str]:
        base = f"{self.prefix}{{{key}}}"
        return [base, base + ":ok", base + ":fail"]

    def _args(self, settings: BreakerSettings) -> list[str]:
        ttl = max(self.ttl, 4 * settings.recovery_timeout, 2 * settings.window_seconds)
        threshold = settings.error_rate_threshold
        return [
            "" if self.clock is None else repr(self.clock()),
            str(settings.failure_threshold),
            repr(settings.recovery_timeout),
            "" if threshold is None else repr(threshold),
            repr(settings.window_seconds),
            str(settings.min_requests),
            str(math.ceil(ttl)),
            repr(self.trial_lease),
        ]

    async def _write(self, script: AsyncScript, key: str, settings: BreakerSettings) -> None:
        if self._skipping():
            return
        try:
            await script(self._keys(key), self._args(settings))
        except (RedisError, OSError) as exc:
            self._unreachable(exc)

    def _skipping(self) -> bool:
        return self._skip_until > 0 and time.monotonic() < self._skip_until

    def _unreachable(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._skip_until = now + self.reconnect_interval
        if now - self._logged_at >= self.log_interval:
            self._logged_at = now
            logger.warning(
                "circuit-breaker store %s unreachable (%s: %.200s); admitting requests without "
                "shared breaker state for now",
                self._where,
                type(exc).__name__,
                str(exc),
            )

    def _unavailable(self, exc: BaseException) -> BreakerStoreUnavailable:
        self._unreachable(exc)
        return BreakerStoreUnavailable(
            f"the circuit-breaker store ({self._where}) is unreachable: {type(exc).__name__}"
        )


def _view(key: str, row: list[Any]) -> BreakerView:
    state, failures, rate, ago, retry = (_text(v) for v in row)
    return BreakerView(
        key=key,
        state=_state(state),
        consecutive_failures=int(failures),
        error_rate=float(rate) if rate else None,
        opened_seconds_ago=float(ago) if ago else None,
        retry_in_seconds=float(retry) if retry else None,
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _state(value: str) -> State:
    if value == "open":
        return "open"
    if value == "half_open":
        return "half_open"
    return "closed"


def _safe_location(url: str) -> str:
    """``redis://host:port/db`` without user or password, for log lines and errors."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


__all__ = ["DEFAULT_PREFIX", "BreakerStoreUnavailable", "RedisBreakers"]
