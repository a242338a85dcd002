"""The lean Redis client: RESP parsing across partial reads, pipelining, URLs, errors."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis

from switchyard.limits.resp import RespClient, RespError, encode, parse
from switchyard.limits.rules import BackendUnavailable

from .conftest import REDIS_URL


def test_encode_and_parse_every_reply_kind() -> None:
    assert (
        encode((b"SET", "k", 5, 1.5)) == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n$3\r\n1.5\r\n"
    )
    wire = bytearray(b"*4\r\n:1\r\n$3\r\nabc\r\n$-1\r\n*2\r\n+OK\r\n-ERR no\r\n:7\r\n")
    reply, position = parse(wire, 0)
    assert reply[:3] == [1, b"abc", None]
    assert reply[3][0] == b"OK" and isinstance(reply[3][1], RespError)
    assert parse(wire, position) == (7, len(wire))
    for cut in range(1, 20):  # any prefix of a reply is incomplete, never misread
        with pytest.raises(Exception) as incomplete:
            parse(bytearray(wire[:cut]), 0)
        assert type(incomplete.value).__name__ == "_Incomplete"


async def test_many_calls_in_flight_share_one_connection(redis_prefix: str) -> None:
    client = RespClient(REDIS_URL)
    key = f"{redis_prefix}n"
    replies = await asyncio.gather(*(client.call(b"INCR", key) for _ in range(200)))
    assert sorted(replies) == list(range(1, 201))
    with pytest.raises(RespError, match="WRONGTYPE"):
        await client.call(b"LPUSH", key, b"x")
    assert await client.call(b"GET", key) == b"200"  # the connection survived the error
    await client.aclose()


async def test_the_url_selects_the_database(redis_prefix: str) -> None:
    client = RespClient("redis://127.0.0.1:6379/5")
    key = f"{redis_prefix}{uuid.uuid4().hex}"
    assert await client.call(b"SET", key, b"in five") == b"OK"
    await client.aclose()
    five = redis.Redis.from_url("redis://127.0.0.1:6379/5")
    assert five.get(key) == b"in five"
    five.delete(key)


async def test_unreachable_or_refused_is_backend_unavailable(redis_prefix: str) -> None:
    with pytest.raises(BackendUnavailable):
        await RespClient("redis://127.0.0.1:1/0", timeout=0.2).call(b"PING")
    with pytest.raises(BackendUnavailable):  # a password this Redis does not have
        await RespClient("redis://:secret@127.0.0.1:6379/0", timeout=0.5).call(b"PING")
