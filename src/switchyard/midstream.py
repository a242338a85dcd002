"""Mid-stream failover: continue a stream that broke after its first chunk on another deployment.

Opt-in per alias (``mid_stream_failover: true``). Without it, a stream that breaks after the
first chunk has gone out ends with an error event (nothing else is possible: the caller already
has part of an answer). With it, :class:`~switchyard.chat_stream.ChatStream` asks the next
deployment to *continue* the partial answer and relays that in the same stream:

- the continuation request is the original one plus two messages: the partial text as an
  ``assistant`` message, then a short ``user`` instruction to continue exactly where it stopped
  without repeating anything (:data:`CONTINUE_INSTRUCTION`). ``max_tokens`` shrinks by the
  tokens already produced. When no text had been sent yet (only a role chunk), the original
  request is simply sent again;
- the caller sees one stream: the continuation's chunks keep the first chunk's ``id`` and
  ``created``, and the first of them carries a ``failover`` marker
  (:class:`~switchyard.types.StreamFailover`);
- usage and cost are the sum of the legs. The broken leg's usage is what its provider reported
  before the break (some report as they go) or else an estimate: its prompt counted by the
  gateway's token counter and its partial text as output tokens.

Limits, stated honestly: the seam may show (another model may restart a word, change style or
add a space); a stream that carried tool calls or a refusal, a JSON-mode or JSON-schema
request, ``n > 1``, a stream that already sent its finish reason, and a non-retryable error are
not continued: they end with the error as before. Reasoning text is not passed on; only the
answer's text is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from switchyard.errors import SwitchyardError
from switchyard.routing.candidate import Candidate
from switchyard.routing.tokens import TokenCounter
from switchyard.types import ChatChunk, ChatRequest, Message, Usage

CONTINUE_INSTRUCTION = (
    "Your previous reply was cut off by a connection error. Continue it exactly where it "
    "stopped: do not repeat any of it, do not comment on the interruption, and start with the "
    "very next characters."
)


@dataclass(slots=True)
class Transcript:
    """What the caller has received so far, as far as continuing it is concerned."""

    pieces: list[str] = field(default_factory=list)
    tool_calls: bool = False
    refusal: bool = False
    finished: bool = False

    def observe(self, chunk: ChatChunk) -> None:
        if chunk.text:
            self.pieces.append(chunk.text)
        if chunk.tool_calls:
            self.tool_calls = True
        if chunk.refusal:
            self.refusal = True
        if chunk.finish_reason is not None:
            self.finished = True

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def can_continue(request: ChatRequest, transcript: Transcript, error: SwitchyardError) -> bool:
    """Whether a stream that broke with ``error`` may be continued elsewhere."""
    structured = request.response_format is not None and request.response_format.type != "text"
    return (
        error.retryable
        and not transcript.tool_calls
        and not transcript.refusal
        and not transcript.finished
        and not structured
        and (request.n or 1) == 1
    )


def continuation_request(request: ChatRequest, partial: str, produced_tokens: int) -> ChatRequest:
    """The request that asks another deployment to carry on after ``partial``."""
    if not partial:
        return request
    messages = [
        *request.messages,
        Message(role="assistant", content=partial),
        Message(role="user", content=CONTINUE_INSTRUCTION),
    ]
    update: dict[str, object] = {"messages": messages}
    if request.max_tokens is not None:
        update["max_tokens"] = max(request.max_tokens - produced_tokens, 1)
    return request.model_copy(update=update)


def next_candidates(
    candidates: Sequence[Candidate], broken: Candidate, excluded: set[str]
) -> list[Candidate]:
    """Where to continue: the deployments after the broken one, then those before it (they
    may have failed only to open), never one that broke mid-stream already."""
    keys = [c.key for c in candidates]
    at = keys.index(broken.key) + 1 if broken.key in keys else 0
    ordered = [*candidates[at:], *candidates[:at]]
    return [c for c in ordered if c.key not in excluded]


def estimated_usage(
    request: ChatRequest, text: str, candidate: Candidate, tokens: TokenCounter
) -> Usage:
    """A broken leg's usage when its provider never reported it: the prompt it was sent and
    the text it produced, counted (or estimated) by the gateway's token counter."""
    return Usage(
        input_tokens=tokens.count(request, candidate.model),
        output_tokens=tokens.count_text(text, candidate.model) if text else 0,
    )


__all__ = [
    "CONTINUE_INSTRUCTION",
    "Transcript",
    "can_continue",
    "continuation_request",
    "estimated_usage",
    "next_candidates",
]
