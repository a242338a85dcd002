"""Counters in Redis, shared by every replica: one Lua script per admission, sent over the
lean pipelined client of :mod:`switchyard.limits.resp`.

The script reads every counter of the admission, refuses at the first one over its limit
(changing nothing), and otherwise charges them all: atomic, so replicas racing for the last
unit cannot both win, and one round trip whatever the number of limits. Time is the Redis
server's ``TIME``, so the replicas' clocks do not matter for GCRA. Corrections (the real
usage after the answer) are a second script, sent off the request path.

Keys are ``<prefix><rule key>``; a GCRA key expires when its window is whole again, a calendar
counter a day after its period ends, a ``total`` budget never. Errors (connection refused, a
timeout, a Redis error) raise :class:`BackendUnavailable`; the
:class:`~switchyard.limits.limiter.Limiter` applies the configured policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from switchyard.limits.resp import RespClient, RespError
from switchyard.limits.rules import (
    KEEP_AFTER_PERIOD,
    BackendUnavailable,
    Correction,
    Rule,
    Verdict,
)

# KEYS: the counters. ARGV: 4 per rule: kind, limit, amount, span.
# Returns {0, i, retry_after} refused by rule i; {2, i} budget i must be seeded first;
# {1, remaining_1, reset_1, remaining_2, ...} admitted.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local keep = tonumber(ARGV[#ARGV])
local news = {}
for i = 1, #KEYS do
  local kind, limit = ARGV[4*i-3], tonumber(ARGV[4*i-2])
  local amount, span = tonumber(ARGV[4*i-1]), tonumber(ARGV[4*i])
  local raw = redis.call('GET', KEYS[i])
  local value = tonumber(raw or '0')
  local new
  if kind == 'g' then
    new = math.max(value, now) + amount * span / limit
    if new - now > span + 1e-4 then return {0, i, string.format('%.6f', new - span - now)} end
  elseif kind == 'b' then
    if not raw then return {2, i} end
    if value >= limit then return {0, i, string.format('%.6f', span)} end
    new = value + amount
  else
    new = value + amount
    if new > limit then return {0, i, string.format('%.6f', span)} end
  end
  news[i] = new
end
local out = {1}
for i = 1, #KEYS do
  local kind, limit = ARGV[4*i-3], tonumber(ARGV[4*i-2])
  local amount, span = tonumber(ARGV[4*i-1]), tonumber(ARGV[4*i])
  local new = news[i]
  if kind == 'g' then
    local ms = math.ceil((new - now) * 1000) + 1000
    redis.call('SET', KEYS[i], string.format('%.6f', new), 'PX', ms)
    out[#out+1] = tostring(math.floor((span - (new - now)) * limit / span + 1e-4))
    out[#out+1] = string.format('%.6f', new - now)
  else
    local used = redis.call('INCRBY', KEYS[i], amount)
    if span > 0 then redis.call('EXPIRE', KEYS[i], math.ceil(span + keep)) end
    out[#out+1] = tostring(limit - used)
    out[#out+1] = string.format('%.6f', span)
  end
end
return out
"""

# KEYS: counters. ARGV: 3 per correction: kind, delta, per (GCRA seconds per unit).
_CORRECT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i = 1, #KEYS do
  local kind, delta, per = ARGV[3*i-2], tonumber(ARGV[3*i-1]), tonumber(ARGV[3*i])
  local raw = redis.call('GET', KEYS[i])
  if raw then
    if kind == 'g' then
      local tat = tonumber(raw)
      if not (tat <= now and delta < 0) then
        local new = math.max(math.max(tat, now) + delta * per, now)
        local ms = math.ceil((new - now) * 1000) + 1000
        redis.call('SET', KEYS[i], string.format('%.6f', new), 'PX', ms)
      end
    else
      redis.call('INCRBY', KEYS[i], delta)
    end
  end
end
return 1
"""


class _Script:
    """A Lua script sent by its SHA1 (EVALSHA), and whole once when Redis does not know it
    (a restarted or flushed server)."""

    def __init__(self, source: str) -> None:
        self.source = source.encode()
        self.sha = hashlib.sha1(self.source).hexdigest().encode()

    async def __call__(self, client: RespClient, keys: list[str], args: list[Any]) -> Any:
        try:
            return await client.call(b"EVALSHA", self.sha, len(keys), *keys, *args)
        except RespError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await client.call(b"EVAL", self.source, len(keys), *keys, *args)


_ACQUIRE_SCRIPT, _CORRECT_SCRIPT = _Script(_ACQUIRE), _Script(_CORRECT)


class RedisCounters:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "switchyard:limits:",
        timeout: float = 0.25,
    ) -> None:
        self.prefix = prefix
        self.timeout = timeout
        self.where = safe_location(url)
        self.client = RespClient(url, timeout=timeout)

    async def acquire(self, rules: Sequence[Rule]) -> Verdict:
        prefix = self.prefix
        keys = [prefix + rule.key for rule in rules]
        args: list[Any] = []
        for rule in rules:
            args += (rule.kind, rule.limit, rule.amount, rule.span)
        args.append(KEEP_AFTER_PERIOD)
        reply = await self._call(_ACQUIRE_SCRIPT(self.client, keys, args))
        status = int(reply[0])
        if status == 0:
            return Verdict(refused=int(reply[1]) - 1, retry_after=float(reply[2]))
        if status == 2:
            return Verdict(seed=int(reply[1]) - 1)
        numbers = [float(v) for v in reply[1:]]
        return Verdict(remaining=tuple(numbers[0::2]), reset=tuple(numbers[1::2]))

    async def correct(self, corrections: Sequence[Correction]) -> None:
        keys = [self.prefix + fix.key for fix in corrections]
        args: list[Any] = []
        for fix in corrections:
            args += (fix.kind, fix.delta, fix.per)
        await self._call(_CORRECT_SCRIPT(self.client, keys, args))

    async def seed(self, key: str, units: int, ttl: float) -> None:
        command: tuple[Any, ...] = (b"SET", self.prefix + key, units, b"NX")
        if ttl:
            command += (b"EX", int(ttl + KEEP_AFTER_PERIOD) + 1)
        await self._call(self.client.call(*command))

    async def value(self, key: str) -> float | None:
        raw = await self._call(self.client.call(b"GET", self.prefix + key))
        return None if raw is None else float(raw)

    async def ping(self) -> None:
        await self._call(self.client.call(b"PING"))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _call(self, work: Any) -> Any:
        """``work``, with a Redis error reply as :class:`BackendUnavailable` too (the
        client bounds every call by ``timeout``: a limit check never hangs a request)."""
        try:
            return await work
        except RespError as exc:
            raise BackendUnavailable(f"Redis answered an error: {str(exc)[:200]}") from None


def safe_location(url: str) -> str:
    """``redis://host:port/db`` without user or password, for log lines and errors."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


__all__ = ["RedisCounters", "safe_location"]
