"""Canonical stream chunks -> ``streamGenerateContent``'s stream, as the bytes a client reads.

Each event is a ``GenerateContentResponse`` holding what the chunk said (a ``thought: true``
text part for reasoning, a text part for text: never an empty part, which gemini-cli takes
for an invalid chunk), with ``modelVersion`` and ``responseId``. Gemini sends a function call
whole in one part, so a call's streamed pieces are gathered and its ``functionCall`` parts
(with their ``thoughtSignature``) go in the last event, with each candidate's
``finishReason`` and the ``usageMetadata``. There is no terminal sentinel: the body ends.

Two framings, as Google serves them: with ``?alt=sse`` one ``data: <json>`` SSE event each
(``\\r\\n\\r\\n`` apart); without it one JSON array written as it goes (``[``, the objects
``,\\r\\n`` apart, ``]``). A stream that fails after its first byte ends with Google's
``{"error": {...}}`` object: in an SSE stream as a bare JSON line, not a ``data:`` event (the
way Google sends it, and the only one ``@google/genai``, gemini-cli's client, raises from;
``google-genai`` takes both), in an array as its last element. :class:`GenerateEvents` is
pure: chunks in, bytes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from switchyard.doors.gemini.errors import error_to_gemini
from switchyard.doors.gemini.reply import finish_reason, function_call_part, usage_to_gemini
from switchyard.errors import SwitchyardError
from switchyard.types import ChatChunk, FinishReason, ToolCall, Usage
from switchyard.types.principal import new_request_id


@dataclass(slots=True)
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    signature: str | None = None


class GenerateEvents:
    """``chunk`` for every chunk, then ``end`` (or ``error``): a
    :class:`~switchyard.doors.sse.Framing`. ``sse`` False: the JSON array framing."""

    __slots__ = ("_calls", "_finish", "_id", "_started", "_usage", "model", "sse")

    def __init__(self, model: str, *, sse: bool) -> None:
        self.model = model  # until a chunk names the upstream's
        self.sse = sse
        self._id = ""
        self._started = False
        self._calls: dict[tuple[int, int], _Call] = {}  # (candidate, call index) -> pieces
        self._finish: dict[int, FinishReason | None] = {}  # candidate -> its finish reason
        self._usage: Usage | None = None

    def chunk(self, chunk: ChatChunk) -> bytes:
        if not self._id:
            self._id = chunk.id or f"gen-{new_request_id()}"
        if chunk.model:
            self.model = chunk.model
        self._finish.setdefault(chunk.index, None)
        for delta in chunk.tool_calls or ():
            call = self._calls.setdefault((chunk.index, delta.index), _Call())
            call.id = delta.id or call.id
            call.name = delta.name or call.name
            call.signature = delta.thought_signature or call.signature
            if delta.arguments:
                call.arguments.append(delta.arguments)
        if chunk.finish_reason is not None:
            self._finish[chunk.index] = chunk.finish_reason
        if chunk.usage is not None:
            self._usage = chunk.usage
        parts: list[dict[str, Any]] = []
        if chunk.reasoning:
            parts.append({"text": chunk.reasoning, "thought": True})
        if chunk.text:
            parts.append({"text": chunk.text})
        if not parts:
            return b""
        candidate = {"content": {"parts": parts, "role": "model"}, "index": chunk.index}
        return self._event({"candidates": [candidate]})

    def end(self) -> bytes:
        """The last event: the gathered function calls, the finish reasons, the usage."""
        candidates = []
        for index, finish in sorted(self._finish.items()) or [(0, None)]:
            calls = [
                function_call_part(
                    ToolCall(
                        id=call.id or f"call_{n}",
                        name=call.name,
                        arguments="".join(call.arguments),
                        thought_signature=call.signature,
                    )
                )
                for (candidate, n), call in sorted(self._calls.items())
                if candidate == index
            ]
            candidate: dict[str, Any] = {}
            if calls:
                candidate["content"] = {"parts": calls, "role": "model"}
            candidate["finishReason"] = finish_reason(finish)
            candidate["index"] = index
            candidates.append(candidate)
        last = {"candidates": candidates, "usageMetadata": usage_to_gemini(self._usage)}
        return self._event(last) + (b"" if self.sse else b"\n]")

    def error(self, error: SwitchyardError) -> bytes:
        body = orjson.dumps(error_to_gemini(error))
        if self.sse:  # a bare JSON line, as Google sends it: what both SDKs look for
            return body + b"\n"
        return (b",\r\n" if self._started else b"[") + body + b"\n]"

    def _event(self, payload: dict[str, Any]) -> bytes:
        if not self._id:
            self._id = f"gen-{new_request_id()}"
        payload["modelVersion"] = self.model
        payload["responseId"] = self._id
        body = orjson.dumps(payload)
        if self.sse:
            return b"data: " + body + b"\r\n\r\n"
        separator = b",\r\n" if self._started else b"["
        self._started = True
        return separator + body


__all__ = ["GenerateEvents"]
