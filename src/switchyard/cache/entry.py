"""One cached answer in its one canonical form: the chunks a stream of it carries.

A streamed answer is kept as the chunks it was relayed as (so a hit replays the same text
pieces, the same tool-call argument deltas, the finish reason and the usage); a plain answer
is kept as the chunks a stream of it would have carried (one chunk with the whole message,
the usage on it). Either is served either way: :meth:`CachedAnswer.response` assembles a
plain reply, :meth:`CachedAnswer.replay` the chunks of a stream. Only single-choice answers
are cached (``n`` > 1 is not looked up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from switchyard.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    Cost,
    FinishReason,
    Message,
    ServedBy,
    ToolCall,
    ToolCallDelta,
    Usage,
)

_VERSION = 1
_CHUNK_FIELDS = {"id", "created", "cost", "failover"}  # per request, never stored


@dataclass(slots=True)
class CachedAnswer:
    provider: str  # the deployment that answered
    model: str  # its upstream model name
    cost: float | None  # USD the answer cost when it was made (None: unpriced)
    chunks: list[ChatChunk]

    # -- from an answer ---------------------------------------------------------------------

    @classmethod
    def of_response(cls, response: ChatResponse) -> CachedAnswer:
        choice = response.choices[0]
        message = choice.message
        calls = message.tool_calls or []
        chunk = ChatChunk(
            id=response.id,
            created=response.created,
            model=response.model,
            role="assistant",
            text=message.text() if message.content is not None else None,
            reasoning=message.reasoning,
            refusal=message.refusal,
            tool_calls=[
                ToolCallDelta(index=n, id=call.id, name=call.name, arguments=call.arguments)
                for n, call in enumerate(calls)
            ]
            or None,
            finish_reason=choice.finish_reason,
            usage=response.usage,
            system_fingerprint=response.system_fingerprint,
        )
        served = response.served_by
        return cls(
            provider=response.provider,
            model=served.model if served is not None else response.model,
            cost=None if response.cost is None else response.cost.total,
            chunks=[chunk],
        )

    # -- bytes ------------------------------------------------------------------------------

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "v": _VERSION,
                "provider": self.provider,
                "model": self.model,
                "cost": self.cost,
                "chunks": [
                    c.model_dump(exclude=_CHUNK_FIELDS, exclude_none=True) for c in self.chunks
                ],
            }
        )

    @classmethod
    def decode(cls, blob: bytes) -> CachedAnswer | None:
        """None for an entry this version cannot read (another version wrote it)."""
        try:
            data: dict[str, Any] = orjson.loads(blob)
            if data.get("v") != _VERSION:
                return None
            chunks = [ChatChunk(id="", created=0, **c) for c in data["chunks"]]
            return cls(data["provider"], data["model"], data["cost"], chunks)
        except (ValueError, TypeError, KeyError):
            return None

    # -- serving it -------------------------------------------------------------------------

    @property
    def usage(self) -> Usage:
        for chunk in reversed(self.chunks):
            if chunk.usage is not None:
                return chunk.usage
        return Usage()

    @property
    def saved(self) -> Cost | None:
        return None if self.cost is None else Cost(total=self.cost)

    def served_by(self) -> ServedBy:
        """No attempt was made: ``attempts`` 0, no upstream time."""
        return ServedBy(provider=self.provider, model=self.model, attempts=0)

    def replay(self, response_id: str, created: int) -> list[ChatChunk]:
        """The stored chunks under this request's id; a hit costs nothing (``cost`` 0)."""
        chunks = [c.model_copy(update={"id": response_id, "created": created}) for c in self.chunks]
        for chunk in chunks:
            if chunk.usage is not None:
                chunk.cost = Cost()
        return chunks

    def response(self, response_id: str, created: int) -> ChatResponse:
        text: list[str] = []
        reasoning: list[str] = []
        refusal: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish: FinishReason | None = None
        fingerprint: str | None = None
        model = self.model
        for chunk in self.chunks:
            model = chunk.model or model
            text.append(chunk.text or "")
            reasoning.append(chunk.reasoning or "")
            refusal.append(chunk.refusal or "")
            for delta in chunk.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] = delta.id or call["id"]
                call["name"] = delta.name or call["name"]
                call["arguments"] += delta.arguments or ""
            finish = chunk.finish_reason or finish
            fingerprint = chunk.system_fingerprint or fingerprint
        tool_calls = [
            ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=c["arguments"])
            for i, c in sorted(calls.items())
        ]
        message = Message(
            role="assistant",
            content="".join(text) or (None if tool_calls else ""),
            tool_calls=tool_calls or None,
            reasoning="".join(reasoning) or None,
            refusal="".join(refusal) or None,
        )
        return ChatResponse(
            id=response_id,
            created=created,
            model=model,
            provider=self.provider,
            choices=[Choice(message=message, finish_reason=finish or "stop")],
            usage=self.usage,
            cost=Cost(),
            system_fingerprint=fingerprint,
            served_by=self.served_by(),
            cache_status="hit",
        )


__all__ = ["CachedAnswer"]
