"""What an adapter supplies to the shared contract suite (``test_contract.py``).

A :class:`ProviderCase` names the adapter, builds it against a fake upstream on 127.0.0.1, and
carries a :class:`Wire` that turns the suite's canonical scenarios ("answer with this text and
this usage", "call this tool with these argument pieces", "fail with 429") into replies in the
provider's own wire format, following its public API reference (``reference``), and reads back
what the adapter sent. A capability the adapter does not declare is skipped by declaration.

Cases live in ``case_<adapter>.py`` modules beside this one, each defining ``CASE``; the suite
discovers them, so adding an adapter adds a file and touches nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from switchyard.providers.base import Capabilities, Provider
from tests.fakes.upstream import FakeUpstream, RecordedRequest, Reply


@dataclass(frozen=True)
class WireUsage:
    """Tokens a scripted reply reports; ``cached`` is part of ``input``, ``reasoning`` part of
    ``output`` in the canonical accounting (a provider that counts differently converts)."""

    input: int = 11
    output: int = 7
    cached: int = 0
    reasoning: int = 0


class Wire(Protocol):
    """The provider's wire format for the suite's scenarios."""

    def text(self, text: str, usage: WireUsage) -> Reply: ...

    def text_stream(self, pieces: list[str], usage: WireUsage) -> Reply: ...

    def tool_call(self, call_id: str, name: str, arguments: str) -> Reply: ...

    def tool_call_stream(self, call_id: str, name: str, argument_pieces: list[str]) -> Reply: ...

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Reply: ...

    def stream_cut(self, pieces: list[str], cut_after: int) -> Reply:
        """A stream whose connection drops after ``cut_after`` events (text so far intact)."""
        ...

    def embeddings(self, vectors: list[list[float]]) -> Reply: ...

    def models(self, ids: list[str]) -> Reply: ...

    # -- what the adapter sent ----------------------------------------------------------------

    def sent_text(self, request: RecordedRequest) -> str:
        """All message text in the upstream request, joined (system prompt included)."""
        ...

    def sent_tool_names(self, request: RecordedRequest) -> list[str]: ...

    def sent_tool_result(self, request: RecordedRequest) -> tuple[str, str] | None:
        """``(call id, result text)`` of the tool result the request carries, if any."""
        ...

    def sent_json_mode(self, request: RecordedRequest) -> bool: ...

    def sent_image(self, request: RecordedRequest) -> bool: ...

    def sent_document(self, request: RecordedRequest) -> bool:
        """The request carries the suite's PDF (its base64) in the provider's document form."""
        ...


@dataclass(frozen=True)
class ProviderCase:
    name: str
    upstream: Callable[[], FakeUpstream]
    provider: Callable[[str], Provider[Any]]  # the upstream's base_url -> a configured adapter
    model: str
    wire: Wire
    reference: str  # the API reference page(s) the fixtures follow
    embedding_model: str | None = None
    statuses: dict[int, type[Exception]] | None = None  # overrides of the default mapping
    # False when the provider's wire has no count of cached prompt tokens (Ollama counts them
    # in its prompt total without a split): the adapter must then report 0, not invent one.
    reports_cached_tokens: bool = True

    @property
    def capabilities(self) -> Capabilities:
        probe = self.provider("http://127.0.0.1:9")
        return type(probe).capabilities


def retry_after_headers(retry_after: float | None) -> dict[str, str]:
    """The ``retry-after`` header a scripted error carries, if it names one."""
    return {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}


# -- reading a request in OpenAI's chat shape (OpenAI and its kin, Cohere v2, Ollama in part) --


def openai_sent_text(request: RecordedRequest) -> str:
    """The messages' text: string contents, and the text parts of part lists."""
    parts = []
    for message in request.json["messages"]:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [p.get("text", "") for p in content if p.get("type") == "text"]
    return "\n".join(parts)


def openai_sent_tool_names(request: RecordedRequest) -> list[str]:
    return [tool["function"]["name"] for tool in request.json.get("tools", [])]


def openai_tool_message(request: RecordedRequest) -> dict[str, Any] | None:
    """The first ``tool`` message (a tool result) of the request, if any."""
    for message in request.json["messages"]:
        if message["role"] == "tool":
            found: dict[str, Any] = message
            return found
    return None


def openai_sent_tool_result(request: RecordedRequest) -> tuple[str, str] | None:
    message = openai_tool_message(request)
    return None if message is None else (message["tool_call_id"], message["content"])


__all__ = [
    "ProviderCase",
    "Wire",
    "WireUsage",
    "openai_sent_text",
    "openai_sent_tool_names",
    "openai_sent_tool_result",
    "openai_tool_message",
    "retry_after_headers",
]
