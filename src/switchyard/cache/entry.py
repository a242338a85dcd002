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
from pydantic import TypeAdapter

from switchyard.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    Cost,
    ServedBy,
    Usage,
)
from switchyard.types.assembly import assemble

_VERSION = 1
_CHUNK_FIELDS = {"id", "created", "cost", "failover"}  # per request, never stored
_CHUNKS = TypeAdapter(list[ChatChunk])
_STORED = {"__all__": _CHUNK_FIELDS}


@dataclass(slots=True)
class CachedAnswer:
    provider: str  # the deployment that answered
    model: str  # its upstream model name
    cost: float | None  # USD the answer cost when it was made (None: unpriced)
    chunks: list[ChatChunk]

    # -- from an answer ---------------------------------------------------------------------

    @staticmethod
    def encode_response(response: ChatResponse) -> bytes:
        """A plain answer's bytes: the one chunk a stream of it would carry (what
        :meth:`decode` reads back), built without a :class:`ChatChunk` on the way."""
        choice = response.choices[0]
        message = choice.message
        chunk: dict[str, Any] = {"model": response.model, "role": "assistant"}
        if message.content is not None:
            chunk["text"] = message.text()
        if message.reasoning is not None:
            chunk["reasoning"] = message.reasoning
        if message.refusal is not None:
            chunk["refusal"] = message.refusal
        if message.tool_calls:
            chunk["tool_calls"] = [
                {"index": n, "id": call.id, "name": call.name, "arguments": call.arguments}
                for n, call in enumerate(message.tool_calls)
            ]
        if choice.finish_reason is not None:
            chunk["finish_reason"] = choice.finish_reason
        chunk["usage"] = response.usage.model_dump()
        if response.system_fingerprint is not None:
            chunk["system_fingerprint"] = response.system_fingerprint
        served = response.served_by
        return orjson.dumps(
            {
                "v": _VERSION,
                "provider": response.provider,
                "model": served.model if served is not None else response.model,
                "cost": None if response.cost is None else response.cost.total,
                "chunks": [chunk],
            }
        )

    # -- bytes ------------------------------------------------------------------------------

    def encode(self) -> bytes:
        head = orjson.dumps(
            {"v": _VERSION, "provider": self.provider, "model": self.model, "cost": self.cost}
        )
        chunks = _CHUNKS.dump_json(self.chunks, exclude=_STORED, exclude_none=True)
        return head[:-1] + b',"chunks":' + chunks + b"}"

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
        whole = assemble(self.chunks)
        return ChatResponse(
            id=response_id,
            created=created,
            model=whole.model or self.model,
            provider=self.provider,
            choices=[Choice(message=whole.message, finish_reason=whole.finish_reason or "stop")],
            usage=self.usage,
            cost=Cost(),
            system_fingerprint=whole.system_fingerprint,
            served_by=self.served_by(),
            cache_status="hit",
        )


__all__ = ["CachedAnswer"]
