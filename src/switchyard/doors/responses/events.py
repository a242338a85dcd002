"""Canonical stream chunks -> the Responses API's streamed events, as the SSE bytes a client
reads (pure: chunks in, bytes out).

The sequence OpenAI's streaming reference gives, whatever upstream answered, every event
with its ``sequence_number`` (from 0)::

    response.created, response.in_progress        (the response, status in_progress)
    per output item, in order (``output_index``):
      reasoning      output_item.added, reasoning_summary_part.added,
                     reasoning_summary_text.delta..., reasoning_summary_text.done,
                     reasoning_summary_part.done, output_item.done
      message        output_item.added, content_part.added, output_text.delta...,
                     output_text.done, content_part.done, output_item.done
      function_call  output_item.added, function_call_arguments.delta...,
                     function_call_arguments.done, output_item.done
    response.completed | response.incomplete       (the whole response, with usage)

An item ends when a chunk of another kind arrives (function calls, which may interleave, at
the end). A stream that fails after its first byte ends with ``response.failed`` (the error's
``code``, see :func:`failure_code`, and ``message``). Clients build the conversation from
``output_item.done`` and need the terminal event; ``on_done`` gets the final response object
(for the response store).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from switchyard.doors.responses.reply import (
    call_item,
    encrypted_content,
    item_id,
    message_item,
    outcome,
    reasoning_item,
    response_object,
    text_part,
)
from switchyard.errors import ContextLengthExceeded, RateLimited, SwitchyardError
from switchyard.types import ChatChunk, FinishReason, ThinkingBlock, ToolCall, Usage

Item = dict[str, Any]
OnDone = Callable[[dict[str, Any]], None]


def failure_code(error: SwitchyardError) -> str:
    """``response.error.code`` for ``error``: the reference's codes (``rate_limit_exceeded``,
    ``invalid_prompt``, ``server_error``), and the two OpenAI sends beyond them that clients
    act on (Codex stops on ``context_length_exceeded`` and ``insufficient_quota`` instead of
    retrying)."""
    if isinstance(error, ContextLengthExceeded):
        return "context_length_exceeded"
    if error.code == "insufficient_quota":
        return "insufficient_quota"
    if isinstance(error, RateLimited):
        return "rate_limit_exceeded"
    return "invalid_prompt" if 400 <= error.status_code < 500 else "server_error"


class _Open:
    """An output item being streamed."""

    __slots__ = ("id", "index", "kind", "name", "parts", "refusal")

    def __init__(self, kind: str, item_id: str, index: int, name: str = "") -> None:
        self.kind, self.id, self.index, self.name = kind, item_id, index, name
        self.parts: list[str] = []  # text, reasoning text or argument pieces
        self.refusal: list[str] = []


class ResponseEvents:
    """``chunk`` for every chunk, then ``end`` (or ``error``): a
    :class:`~switchyard.doors.sse.Framing`."""

    def __init__(
        self,
        response_id: str,
        model: str,
        body: dict[str, Any],
        *,
        sealed: Callable[[], bool] = lambda: True,
        on_done: OnDone | None = None,
    ) -> None:
        self.response_id = response_id
        self.model = model  # until a chunk names the upstream's
        self.body = body
        self.created_at = int(time.time())
        self._sealed = sealed  # whether thinking is another upstream's (see reply.py)
        self._on_done = on_done
        self._sequence = 0
        self._started = False
        self._output: list[Item] = []  # finished items, in output_index order
        self._slots: list[Item | None] = []  # by output_index: None while streaming
        self._text: _Open | None = None  # the open message or reasoning item
        self._calls: dict[int, _Open] = {}  # canonical tool call index -> its open item
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    # -- the Framing ----------------------------------------------------------------------------

    def chunk(self, chunk: ChatChunk) -> bytes:
        out = b"" if self._started else self._start(chunk)
        if chunk.reasoning:
            out += self._reasoning(chunk.reasoning)
        if chunk.signature is not None:
            out += self._reasoning("")
            out += self._close_reasoning(ThinkingBlock(signature=chunk.signature))
        if chunk.redacted_thinking:
            out += self._close_text()
            block = ThinkingBlock(type="redacted_thinking", data=chunk.redacted_thinking)
            out += self._whole(reasoning_item(self._item_id("rs"), "", self._seal(block)))
        if chunk.text or chunk.refusal:
            out += self._message(chunk.text or "", chunk.refusal)
        for call in chunk.tool_calls or ():
            item = self._calls.get(call.index)
            if item is None:
                out += self._close_text()
                item = self._calls[call.index] = self._add(
                    "function_call", self._item_id("fc"), call.name or ""
                )
                added = call_item(
                    item.id, ToolCall(id=call.id or "", name=item.name), "in_progress"
                )
                out += self._event(
                    "response.output_item.added", output_index=item.index, item=added
                )
                self._slots[item.index] = added
            if call.arguments:
                item.parts.append(call.arguments)
                out += self._event(
                    "response.function_call_arguments.delta",
                    item_id=item.id,
                    output_index=item.index,
                    delta=call.arguments,
                )
        if chunk.finish_reason is not None:
            self._finish = chunk.finish_reason
        if chunk.usage is not None:
            self._usage = chunk.usage
        return out

    def end(self) -> bytes:
        out = b"" if self._started else self._start(None)
        out += self._close_text()
        for item in list(self._calls.values()):
            out += self._close_call(item)
        status, incomplete = outcome(self._finish)
        final = response_object(
            self.response_id,
            self.created_at,
            self.model,
            self.body,
            status=status,
            output=self._output,
            usage=self._usage or Usage(),
            incomplete=incomplete,
        )
        if self._on_done is not None:
            self._on_done(final)
        return out + self._event(f"response.{status}", response=final)

    def error(self, error: SwitchyardError) -> bytes:
        out = b"" if self._started else self._start(None)
        failed = response_object(
            self.response_id,
            self.created_at,
            self.model,
            self.body,
            status="failed",
            output=[item for item in self._slots if item is not None],
            usage=self._usage,
            error={"code": failure_code(error), "message": error.message},
        )
        return out + self._event("response.failed", response=failed)

    # -- items ----------------------------------------------------------------------------------

    def _start(self, chunk: ChatChunk | None) -> bytes:
        self._started = True
        if chunk is not None and chunk.model:
            self.model = chunk.model
        snapshot = response_object(
            self.response_id, self.created_at, self.model, self.body, status="in_progress"
        )
        return self._event("response.created", response=snapshot) + self._event(
            "response.in_progress", response=snapshot
        )

    def _reasoning(self, text: str) -> bytes:
        out = b""
        item = self._text
        if item is None or item.kind != "reasoning":
            out += self._close_text()
            item = self._text = self._add("reasoning", self._item_id("rs"))
            added = reasoning_item(item.id, "")
            self._slots[item.index] = added
            out += self._event("response.output_item.added", output_index=item.index, item=added)
            out += self._event(
                "response.reasoning_summary_part.added",
                item_id=item.id,
                output_index=item.index,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )
        if text:
            item.parts.append(text)
            out += self._event(
                "response.reasoning_summary_text.delta",
                item_id=item.id,
                output_index=item.index,
                summary_index=0,
                delta=text,
            )
        return out

    def _message(self, text: str, refusal: str | None) -> bytes:
        out = b""
        item = self._text
        if item is None or item.kind != "message":
            out += self._close_text()
            item = self._text = self._add("message", self._item_id("msg"))
            added = {**message_item(item.id, "", status="in_progress"), "content": []}
            self._slots[item.index] = added
            out += self._event("response.output_item.added", output_index=item.index, item=added)
            out += self._event(
                "response.content_part.added",
                item_id=item.id,
                output_index=item.index,
                content_index=0,
                part=text_part(""),
            )
        if refusal:
            item.refusal.append(refusal)
        if text:
            item.parts.append(text)
            out += self._event(
                "response.output_text.delta",
                item_id=item.id,
                output_index=item.index,
                content_index=0,
                delta=text,
                logprobs=[],
            )
        return out

    def _close_text(self) -> bytes:
        item = self._text
        if item is None:
            return b""
        if item.kind == "reasoning":
            return self._close_reasoning(None)
        self._text = None
        text, refusal = "".join(item.parts), "".join(item.refusal) or None
        where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        out = self._event("response.output_text.done", **where, text=text, logprobs=[])
        out += self._event("response.content_part.done", **where, part=text_part(text))
        if refusal:
            part = {"type": "refusal", "refusal": refusal}
            where["content_index"] = 1
            out += self._event("response.content_part.added", **where, part=part)
            out += self._event("response.content_part.done", **where, part=part)
        return out + self._done(item, message_item(item.id, text, refusal=refusal))

    def _close_reasoning(self, signed: ThinkingBlock | None) -> bytes:
        item = self._text
        assert item is not None and item.kind == "reasoning"
        self._text = None
        text = "".join(item.parts)
        where = {"item_id": item.id, "output_index": item.index, "summary_index": 0}
        out = self._event("response.reasoning_summary_text.done", **where, text=text)
        part = {"type": "summary_text", "text": text}
        out += self._event("response.reasoning_summary_part.done", **where, part=part)
        sealed = None if signed is None else self._seal(signed)
        return out + self._done(item, reasoning_item(item.id, text, sealed))

    def _close_call(self, item: _Open) -> bytes:
        self._calls = {k: v for k, v in self._calls.items() if v is not item}
        added = self._slots[item.index]
        assert added is not None
        arguments = "".join(item.parts)
        out = self._event(
            "response.function_call_arguments.done",
            item_id=item.id,
            output_index=item.index,
            name=item.name,
            arguments=arguments,
        )
        return out + self._done(item, {**added, "arguments": arguments, "status": "completed"})

    def _whole(self, finished: Item) -> bytes:
        """An item that comes complete (redacted thinking): added and done at once."""
        item = self._add(finished["type"], finished["id"])
        out = self._event("response.output_item.added", output_index=item.index, item=finished)
        return out + self._done(item, finished)

    def _item_id(self, prefix: str) -> str:
        """The id of the item about to be added (see :func:`~.reply.item_id`)."""
        return item_id(self.response_id, prefix, len(self._slots))

    def _add(self, kind: str, item_id: str, name: str = "") -> _Open:
        self._slots.append(None)
        return _Open(kind, item_id, len(self._slots) - 1, name)

    def _done(self, item: _Open, finished: Item) -> bytes:
        self._slots[item.index] = finished
        self._output = [slot for slot in self._slots if slot is not None]
        return self._event("response.output_item.done", output_index=item.index, item=finished)

    def _seal(self, block: ThinkingBlock) -> str | None:
        return encrypted_content(block, sealed=self._sealed())

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


__all__ = ["ResponseEvents", "failure_code"]
