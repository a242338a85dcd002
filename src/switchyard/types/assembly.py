"""A whole stream of canonical chunks as one assistant message (pure; no I/O).

The one place a stream becomes a message: the local provider's non-streamed answer and the
response cache's replay of a stored stream as a plain answer both use it, so a tool call's
argument pieces, reasoning and refusal text join the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from switchyard.types.chat import ChatChunk, FinishReason, Message, ToolCall


class Assembled(NamedTuple):
    message: Message
    finish_reason: FinishReason | None  # the last one a chunk gave
    system_fingerprint: str | None
    model: str | None  # the last model a chunk named
    last: ChatChunk | None  # None: there were no chunks


def assemble(chunks: Iterable[ChatChunk]) -> Assembled:
    text: list[str] = []
    reasoning: list[str] = []
    refusal: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    signatures: dict[int, str] = {}  # Gemini's thoughtSignature of a call, when it had one
    finish: FinishReason | None = None
    fingerprint: str | None = None
    model: str | None = None
    last: ChatChunk | None = None
    for chunk in chunks:
        last = chunk
        model = chunk.model or model
        text.append(chunk.text or "")
        reasoning.append(chunk.reasoning or "")
        refusal.append(chunk.refusal or "")
        for delta in chunk.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = delta.id or call["id"]
            call["name"] = delta.name or call["name"]
            call["arguments"] += delta.arguments or ""
            if delta.thought_signature:
                signatures[delta.index] = delta.thought_signature
        finish = chunk.finish_reason or finish
        fingerprint = chunk.system_fingerprint or fingerprint
    tool_calls = [
        ToolCall(
            id=c["id"] or f"call_{i}",
            name=c["name"],
            arguments=c["arguments"],
            thought_signature=signatures.get(i),
        )
        for i, c in sorted(calls.items())
    ]
    message = Message(
        role="assistant",
        content="".join(text) or (None if tool_calls else ""),
        tool_calls=tool_calls or None,
        reasoning="".join(reasoning) or None,
        refusal="".join(refusal) or None,
    )
    return Assembled(message, finish, fingerprint, model, last)


__all__ = ["Assembled", "assemble"]
