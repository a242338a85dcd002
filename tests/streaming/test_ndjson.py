"""The shared NDJSON framing parser: bytes in, JSON values out, whatever the chunking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchyard.errors import UpstreamProtocolError
from switchyard.streaming.ndjson import NdjsonParser, iter_ndjson

# Lines as Ollama's /api/chat streams them (docs/api.md, "Chat request (Streaming)").
STREAM = (
    b'{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00",'
    b'"message":{"role":"assistant","content":"The","images":null},"done":false}\n'
    b'{"model":"llama3.2","created_at":"2023-08-04T08:52:19.4Z",'
    b'"message":{"role":"assistant","content":" sky \xc3\xa9"},"done":false}\n'
    b'{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z",'
    b'"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",'
    b'"prompt_eval_count":26,"eval_count":282}\n'
)


def parse_in_pieces(data: bytes, size: int) -> list[Any]:
    parser = NdjsonParser()
    values: list[Any] = []
    for start in range(0, len(data), size):
        values += parser.feed(data[start : start + size])
    return values + parser.finish()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_any_chunking_gives_the_same_values(size: int) -> None:
    values = parse_in_pieces(STREAM, size)
    assert [v["message"]["content"] for v in values] == ["The", " sky é", ""]
    assert values[-1]["done"] is True and values[-1]["eval_count"] == 282


def test_values_come_out_as_soon_as_their_line_is_complete() -> None:
    parser = NdjsonParser()
    assert parser.feed(b'{"a": 1}\n{"b"') == [{"a": 1}]
    assert parser.feed(b": 2}") == []
    assert parser.feed(b"\n") == [{"b": 2}]
    assert parser.finish() == []


def test_crlf_blank_lines_and_a_last_line_without_newline() -> None:
    parser = NdjsonParser()
    assert parser.feed(b'{"a": 1}\r\n\r\n\n  \n[1, 2]\r\n"text"\n3') == [{"a": 1}, [1, 2], "text"]
    assert parser.finish() == [3]
    assert parser.finish() == []


def test_a_multibyte_character_split_across_chunks() -> None:
    data = '{"t": "naïve ✓"}\n'.encode()
    cut = data.index("✓".encode()) + 1
    parser = NdjsonParser()
    assert parser.feed(data[:cut]) == []
    assert parser.feed(data[cut:]) == [{"t": "naïve ✓"}]


@pytest.mark.parametrize(
    "data",
    [b'{"a": 1}\n{oops}\n', b'{"a": \xff}\n', b"data: {}\n", b'{"unterminated": "x\n'],
    ids=["not-json", "not-utf8", "sse-not-ndjson", "broken-string"],
)
def test_a_malformed_line_is_a_protocol_error(data: bytes) -> None:
    parser = NdjsonParser()
    with pytest.raises(UpstreamProtocolError):
        parser.feed(data)


def test_a_malformed_last_line_is_a_protocol_error() -> None:
    parser = NdjsonParser()
    assert parser.feed(b'{"a": 1}\n{"b": ') == [{"a": 1}]
    with pytest.raises(UpstreamProtocolError):
        parser.finish()


def test_an_endless_line_is_refused_instead_of_buffered() -> None:
    parser = NdjsonParser(max_line_bytes=16)
    assert parser.feed(b'{"k": "0123') == []
    with pytest.raises(UpstreamProtocolError):
        parser.feed(b'456789abcdef"}')


async def test_iter_ndjson_over_an_async_byte_stream() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(STREAM), 5):
            yield STREAM[start : start + 5]
        yield b'{"tail": true}'

    values = [value async for value in iter_ndjson(chunks())]
    assert len(values) == 4 and values[-1] == {"tail": True}
