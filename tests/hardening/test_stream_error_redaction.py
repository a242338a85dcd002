"""An error event inside a 200 stream, through the served gateway: its text is redacted like an
error status's body before the client's error event, a log line or ``/api/v1/providers``
shows it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.served import serve
from tests.fakes import anthropic_upstream as claude
from tests.fakes.anthropic_upstream import AnthropicUpstream
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import FakeUpstream, Reply
from tests.hardening.served_state import deployment

HELLO: Any = [{"role": "user", "content": "hello"}]
LEAKED = "sk-live-abcdef1234567890abcdef"  # shaped like a key
CONFIGURED = "plain-upstream-key-987654321"  # the provider's own key, not shaped like one
MESSAGE = f"bad key {LEAKED} (configured: {CONFIGURED})"


def openai_stream() -> Reply:
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "half"}, "finish_reason": None}],
    }
    error = {"error": {"message": MESSAGE, "type": "server_error", "code": None}}
    return Reply.stream([chunk, error], done=False)


def anthropic_stream() -> Reply:
    return claude.stream_reply(
        [
            claude.message_start(),
            claude.block_start(0, claude.text_block("")),
            claude.text_delta(0, "half"),
            claude.error_event("overloaded_error", MESSAGE),
        ]
    )


@pytest.mark.parametrize(
    ("kind", "upstream", "reply"),
    [
        ("openai", OpenAIUpstream, openai_stream),
        ("anthropic", AnthropicUpstream, anthropic_stream),
    ],
)
def test_an_error_event_midstream_reaches_the_client_and_log_redacted(
    kind: str,
    upstream: type[FakeUpstream],
    reply: Callable[[], Reply],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with upstream() as fake:
        fake.script(reply())
        config = {
            "providers": {"up": {"type": kind, "base_url": fake.base_url, "api_key": CONFIGURED}},
            "models": [{"name": "only", "deployments": [{"provider": "up", "model": "m"}]}],
            "router": {"retries": 0},
        }
        with serve(config) as served:
            answer = httpx.post(
                f"{served.base_url}/chat/completions",
                json={"model": "only", "messages": HELLO, "stream": True},
                timeout=10,
            )
            last_error = deployment(served, "up/m")["last_error"]
    assert answer.status_code == 200
    assert '"half"' in answer.text
    assert '"error"' in answer.text and "bad key [redacted]" in answer.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "bad key [redacted]" in last_error
    for text in (answer.text, logged, last_error):
        assert LEAKED not in text and CONFIGURED not in text
