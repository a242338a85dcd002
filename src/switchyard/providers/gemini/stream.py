"""Streamed Gemini replies -> canonical chunks, with a tiny explicit state. Pure, replayable.

``streamGenerateContent?alt=sse`` sends one ``GenerateContentResponse`` per SSE event: text
parts are deltas, a ``functionCall`` arrives whole in one event (it becomes one
``ToolCallDelta`` with id, name and the whole :func:`arguments_json` text), the finishing event
carries ``finishReason``, and ``usageMetadata`` (cumulative) rides on the events, complete on
the last. There is no terminal sentinel: the HTTP body ending after every candidate finished is
the end (so :attr:`~StreamTranslator.done` stays False), and :meth:`StreamTranslator.finish`
says ``ProviderUnavailable("stream ended early")`` when it ends before that.

:meth:`~StreamTranslator.feed` takes the SSE event (its ``data`` decoded as JSON; an
``{"error": ...}`` object raises the error it describes), :meth:`~StreamTranslator.feed_payload`
the decoded object, and :meth:`~StreamTranslator.whole_reply` the JSON array an upstream that
ignored ``alt=sse`` answers with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard.errors import ProviderUnavailable, UpstreamProtocolError
from switchyard.formats.json_body import parse_json
from switchyard.providers.gemini.errors import map_gemini_error_payload
from switchyard.providers.gemini.reply import (
    blocked_prompt,
    filtered_reply,
    finish_reason,
    is_filtered,
    parse,
    split_parts,
    tool_call,
)
from switchyard.providers.gemini.wire import Candidate, GenerateContentResponse
from switchyard.streaming.sse import SseEvent
from switchyard.types import ChatChunk, ToolCallDelta, Usage


@dataclass(slots=True)
class _CandidateState:
    started: bool = False  # the first chunk (with role) went out
    calls: int = 0  # function calls so far: the next call's index and ``call_<n>``
    finished: bool = False


class StreamTranslator:
    """Feed each event in order; call :meth:`finish` when the body ended."""

    done: bool = False  # never: Gemini sends no last event, the stream ends with its body

    def __init__(self, *, provider: str, model: str, created: int, fallback_id: str) -> None:
        self.provider = provider
        self.model = model
        self.created = created
        self.id = fallback_id
        self._first_event = True
        self._candidates: dict[int, _CandidateState] = {}
        self._said_anything = False
        self.usage: Usage | None = None

    def feed(self, event: SseEvent) -> list[ChatChunk]:
        """The chunks one SSE event gives."""
        if not event.data.strip():
            return []
        return self.feed_payload(self._object(parse_json(event.data, self.provider)))

    def whole_reply(self, raw: bytes) -> list[ChatChunk]:
        """Every chunk of a reply sent whole, as a JSON array of the stream's objects (an
        upstream that ignored ``alt=sse``), the closing one included."""
        payload = parse_json(raw, self.provider)
        chunks: list[ChatChunk] = []
        for item in payload if isinstance(payload, list) else [payload]:
            chunks.extend(self.feed_payload(self._object(item)))
        chunks.extend(self.finish())
        return chunks

    def feed_payload(self, payload: Any) -> list[ChatChunk]:
        """The chunks one decoded ``GenerateContentResponse`` gives."""
        wire = parse(GenerateContentResponse, payload, "stream chunk", self.provider)
        if self._first_event:
            self._first_event = False
            self.id = wire.response_id or self.id
            self.model = wire.model_version or self.model
        if wire.usage_metadata is not None:
            self.usage = wire.usage_metadata.canonical()
        blocked = blocked_prompt(wire.prompt_feedback, self.provider)
        if blocked is not None and not wire.candidates:
            raise blocked
        chunks: list[ChatChunk] = []
        for candidate in wire.candidates:
            chunks.extend(self._candidate(candidate))
        return chunks

    def finish(self) -> list[ChatChunk]:
        """The closing chunk (usage), or the error an unfinished stream means."""
        if not self._candidates or not all(s.finished for s in self._candidates.values()):
            raise ProviderUnavailable(
                "stream ended early (no finishReason from Gemini)", provider=self.provider
            )
        if self.usage is None:
            return []
        return [self._chunk(usage=self.usage)]

    def _candidate(self, candidate: Candidate) -> list[ChatChunk]:
        state = self._candidates.setdefault(candidate.index, _CandidateState())
        if state.finished:
            return []
        parts = candidate.content.parts if candidate.content is not None else []
        text, reasoning, calls = split_parts(parts)
        chunks: list[ChatChunk] = []
        if text or reasoning or calls:
            deltas = []
            for call in calls:
                canonical = tool_call(call, state.calls)
                deltas.append(
                    ToolCallDelta(
                        index=state.calls,
                        id=canonical.id,
                        name=canonical.name,
                        arguments=canonical.arguments,
                        thought_signature=canonical.thought_signature,
                    )
                )
                state.calls += 1
            chunks.append(
                self._chunk(
                    index=candidate.index,
                    role=None if state.started else "assistant",
                    text=text or None,
                    reasoning=reasoning or None,
                    tool_calls=deltas or None,
                )
            )
            state.started = True
            self._said_anything = True
        raw = candidate.finish_reason
        if raw is not None:
            if is_filtered(raw) and not self._said_anything:
                raise filtered_reply(raw, self.provider)
            state.finished = True
            reason = finish_reason(raw, called=state.calls > 0)
            chunks.append(self._chunk(index=candidate.index, finish_reason=reason))
        return chunks

    def _object(self, payload: Any) -> dict[str, Any]:
        """A stream object, or the error an ``{"error": ...}`` object describes."""
        if not isinstance(payload, dict):
            raise UpstreamProtocolError("stream chunk is not a JSON object", provider=self.provider)
        if "error" in payload:
            raise map_gemini_error_payload(payload, self.provider)
        return payload

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(id=self.id, created=self.created, model=self.model, **fields)


__all__ = ["StreamTranslator"]
