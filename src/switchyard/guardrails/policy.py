"""The guardrails that apply to one request, and what they do to its input and its answer.

A :class:`Policy` is an alias's guardrails followed by its caller's tenant's, split by side.
The Gateway asks :func:`policy_for` once per request (None: nothing applies, nothing runs),
then

- :meth:`Policy.check_input` before the limits, the cache and any upstream: a ``block`` is
  400 ``content_policy_violation`` naming the guardrail and the message it found in; a
  ``redact`` changes the text sent upstream (and the cache key); a ``warn`` is recorded;
- :meth:`Policy.check_answer` on a plain answer: ``block`` is ``content_filter``, ``redact``
  replaces the matches (``max_length`` cuts the text);
- :meth:`Policy.stream_guard` for a streamed answer: a :class:`StreamGuard` that the stream
  passes every chunk through (see :mod:`switchyard.guardrails.scan` for the holding back).

Every guardrail that fires is recorded once on the request's record
(:class:`~switchyard.records.record.GuardrailDecision`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from switchyard.errors import ContentFiltered, ContentPolicyViolation
from switchyard.guardrails.rules import LengthRule, PatternRule, Rule, SchemaRule
from switchyard.guardrails.scan import StreamScanner, redact_arguments, redact_text
from switchyard.records.record import GuardrailDecision, RequestRecord
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Message,
    Principal,
    TextPart,
    ToolCallDelta,
)


@dataclass(frozen=True, slots=True)
class Policy:
    input: tuple[Rule, ...] = ()
    output: tuple[Rule, ...] = ()

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> Policy | None:
        """The policy of these rules, None when there are none."""
        if not rules:
            return None
        return cls(
            tuple(r for r in rules if r.on == "input"), tuple(r for r in rules if r.on == "output")
        )

    def __add__(self, other: Policy) -> Policy:
        return Policy(self.input + other.input, self.output + other.output)

    # -- input ------------------------------------------------------------------------------

    def check_input(self, request: ChatRequest, record: RequestRecord) -> ChatRequest:
        """``request`` as it may go upstream (redacted), or ContentPolicyViolation."""
        if not self.input:
            return request
        patterns = [r for r in self.input if isinstance(r, PatternRule)]
        messages = request.messages
        changed: dict[int, Message] = {}
        for i, message in enumerate(messages if patterns else ()):
            redacted = _map_text(message, _input_redactor(patterns, record, i))
            if message.tool_calls:  # the arguments of calls made earlier in the conversation
                redactors = partial(_input_redactor, patterns, record, i)
                redacted = _map_arguments(redacted, redactors)
            if redacted is not message:
                changed[i] = redacted
        for rule in self.input:
            if isinstance(rule, LengthRule):
                size = sum(len(changed.get(i, m).text()) for i, m in enumerate(messages))
                if size > rule.max_chars:
                    _decide(record, rule)
                    if rule.action == "block":
                        raise _violation(
                            rule, f"{size} characters, more than {rule.max_chars}", "messages"
                        )
        if not changed:
            return request
        return request.model_copy(
            update={"messages": [changed.get(i, m) for i, m in enumerate(messages)]}
        )

    # -- output -----------------------------------------------------------------------------

    def check_answer(self, response: ChatResponse, record: RequestRecord) -> ChatResponse:
        """A plain answer with the output guardrails applied, or ContentFiltered."""
        if not self.output:
            return response
        patterns = [r for r in self.output if isinstance(r, PatternRule)]
        fired = _output_fired(record)
        redactor = _redactor(patterns, fired)
        for choice in response.choices:
            message = choice.message
            if message.tool_calls and patterns:
                choice.message = message = _map_arguments(message, lambda _: redactor)
            text = message.text()
            if not text:
                continue
            new = redact_text(patterns, text, fired) if patterns else text
            for rule in self.output:
                if isinstance(rule, LengthRule) and len(new) > rule.max_chars:
                    fired(rule)
                    if rule.action == "redact":
                        new = new[: rule.max_chars]
                elif isinstance(rule, SchemaRule) and rule.problem(new) is not None:
                    fired(rule)
            if new != text:
                choice.message = message.model_copy(update={"content": new})
        return response

    def stream_guard(self, record: RequestRecord) -> StreamGuard | None:
        return StreamGuard(self.output, record) if self.output else None


class StreamGuard:
    """One streamed answer's output guardrails: :meth:`chunk` for every chunk as it comes,
    :meth:`tail` at the end. Text is released ``hold`` characters behind (each choice on its
    own); the chunk that ends a choice (``finish_reason``) carries what was held back.

    With pattern guardrails, a tool call is held back whole and released as one piece, its
    arguments redacted as JSON, when the next call starts or its choice ends: its pieces
    cannot be scanned as plain text (a redaction must not cut a JSON string), and a client
    runs a call only once it is whole anyway. Calls keep their order."""

    __slots__ = ("_choices", "_fired", "_last", "_lengths", "_patterns", "_schemas")

    def __init__(self, rules: Sequence[Rule], record: RequestRecord) -> None:
        self._fired = _output_fired(record)
        self._patterns = [r for r in rules if isinstance(r, PatternRule)]
        self._lengths = [r for r in rules if isinstance(r, LengthRule)]
        self._schemas = [r for r in rules if isinstance(r, SchemaRule)]
        self._choices: dict[int, _Choice] = {}
        self._last: ChatChunk | None = None  # the newest chunk: the model of a tail's

    def chunk(self, chunk: ChatChunk) -> ChatChunk | None:
        """``chunk`` with its text as far as it may be released (None: nothing left to send);
        ContentFiltered when a block guardrail fired."""
        self._last = chunk
        state = self._choices.get(chunk.index)
        if state is None:
            state = self._choices[chunk.index] = _Choice(
                StreamScanner(self._patterns, self._fired) if self._patterns else None
            )
        if chunk.text:
            chunk.text = self._release(state, state.feed(chunk.text)) or None
        if chunk.tool_calls and self._patterns:
            chunk.tool_calls = self._hold_calls(state, chunk.tool_calls) or None
        if chunk.finish_reason is not None and not state.ended:
            state.ended = True
            rest = self._release(state, state.flush())
            if rest:
                chunk.text = (chunk.text or "") + rest
            call = self._release_call(state)
            if call is not None:
                chunk.tool_calls = [*(chunk.tool_calls or ()), call]
            self._end(state)
        if chunk.text is None and _empty(chunk):
            return None
        return chunk

    def tail(self) -> list[ChatChunk]:
        """At the stream's end: what is still held back (a stream that ended without a
        ``finish_reason``), as chunks like the last one."""
        template = self._last
        out: list[ChatChunk] = []
        for index, state in self._choices.items():
            if state.ended:
                continue
            state.ended = True
            rest = self._release(state, state.flush())
            call = self._release_call(state)
            self._end(state)
            if (rest or call is not None) and template is not None:
                out.append(
                    ChatChunk(
                        id=template.id,
                        created=template.created,
                        model=template.model,
                        index=index,
                        text=rest or None,
                        tool_calls=None if call is None else [call],
                    )
                )
        return out

    def discard(self) -> None:
        """The stream continues on another deployment, which says the held-back text again."""
        for state in self._choices.values():
            if state.scanner is not None:
                state.scanner.discard()
            state.call = None

    def _hold_calls(self, state: _Choice, pieces: list[ToolCallDelta]) -> list[ToolCallDelta]:
        """The calls these pieces complete (a piece of the next call ends the one held)."""
        done: list[ToolCallDelta] = []
        for piece in pieces:
            held = state.call
            if held is not None and piece.index != held.index:
                done.append(self._redacted(held))
                held = None
            if held is None:
                state.call = piece.model_copy(update={"arguments": piece.arguments or ""})
                continue
            held.arguments = (held.arguments or "") + (piece.arguments or "")
            held.id = held.id or piece.id
            held.name = held.name or piece.name
            held.thought_signature = held.thought_signature or piece.thought_signature
        return done

    def _release_call(self, state: _Choice) -> ToolCallDelta | None:
        held, state.call = state.call, None
        return None if held is None else self._redacted(held)

    def _redacted(self, call: ToolCallDelta) -> ToolCallDelta:
        call.arguments = redact_arguments(self._patterns, call.arguments or "", self._fired)
        return call

    def _release(self, state: _Choice, text: str) -> str:
        if not text or (not self._lengths and not self._schemas):
            return text
        for rule in self._lengths:
            room = rule.max_chars - state.released
            if len(text) > room and rule.name not in state.over:
                state.over.add(rule.name)
                self._fired(rule)
            if rule.action == "redact":
                text = text[: max(room, 0)]
        state.released += len(text)
        if self._schemas:
            state.text.append(text)
        return text

    def _end(self, state: _Choice) -> None:
        if self._schemas:
            whole = "".join(state.text)
            for rule in self._schemas:
                if rule.problem(whole) is not None:
                    self._fired(rule)


@dataclass(slots=True)
class _Choice:
    scanner: StreamScanner | None
    released: int = 0
    ended: bool = False
    over: set[str] = field(default_factory=set)  # max_length rules already fired
    text: list[str] = field(default_factory=list)  # released text, kept for json_schema
    call: ToolCallDelta | None = None  # the tool call held back until it is whole

    def feed(self, text: str) -> str:
        return text if self.scanner is None else self.scanner.feed(text)

    def flush(self) -> str:
        return "" if self.scanner is None else self.scanner.flush()


def policy_for(aliases: Mapping[str, Policy], principal: Principal, alias: str) -> Policy | None:
    """The guardrails of ``alias`` and of the caller's tenant (its grant carries them), None
    when neither has any."""
    policy = aliases.get(alias) if aliases else None
    grant = principal.grant
    tenant = grant.guardrails if grant is not None else None
    if not isinstance(tenant, Policy):
        return policy
    return tenant if policy is None else policy + tenant


def _decide(record: RequestRecord, rule: Rule) -> None:
    decision = GuardrailDecision(rule.name, rule.on, rule.action)
    if decision not in record.guardrails:
        record.guardrails = (*record.guardrails, decision)


def _output_fired(record: RequestRecord) -> Callable[[Rule], None]:
    def fired(rule: Rule) -> None:
        _decide(record, rule)
        if rule.action == "block":
            raise ContentFiltered(f"the answer was blocked by guardrail {rule.name!r}")

    return fired


def _input_redactor(
    patterns: Sequence[PatternRule], record: RequestRecord, index: int, call: int | None = None
) -> Callable[[str], str]:
    """Redacts message ``index``'s text, or with ``call`` that message's tool call's
    arguments; a block is 400 naming where it found the match."""
    where = f"messages[{index}].content"
    if call is not None:
        where = f"messages[{index}].tool_calls[{call}].function.arguments"

    def fired(rule: PatternRule) -> None:
        _decide(record, rule)
        if rule.action == "block":
            raise _violation(rule, f"in {where}", where)

    if call is not None:
        return lambda text: redact_arguments(patterns, text, fired)
    return lambda text: redact_text(patterns, text, fired)


def _redactor(
    patterns: Sequence[PatternRule], fired: Callable[[PatternRule], None]
) -> Callable[[str], str]:
    """Redacts a tool call's arguments (output: ``fired`` raises on a block)."""
    return lambda arguments: redact_arguments(patterns, arguments, fired)


def _map_arguments(message: Message, change: Callable[[int], Callable[[str], str]]) -> Message:
    """``message`` with ``change(j)`` applied to its tool call ``j``'s arguments; the same
    object when nothing changed."""
    calls = message.tool_calls or []
    new = [
        call.model_copy(update={"arguments": args})
        if (args := change(j)(call.arguments)) != call.arguments
        else call
        for j, call in enumerate(calls)
    ]
    if all(a is b for a, b in zip(new, calls, strict=True)):
        return message
    return message.model_copy(update={"tool_calls": new})


def _violation(rule: Rule, what: str, param: str) -> ContentPolicyViolation:
    return ContentPolicyViolation(
        f"the request was blocked by guardrail {rule.name!r} ({what})", param=param
    )


def _map_text(message: Message, change: Callable[[str], str]) -> Message:
    """``message`` with ``change`` applied to its text (a string, or each text part); the same
    object when nothing changed."""
    content = message.content
    if isinstance(content, str):
        new = change(content) if content else content
        return message if new == content else message.model_copy(update={"content": new})
    if not content:
        return message
    parts = list(content)
    touched = False
    for i, part in enumerate(parts):
        if isinstance(part, TextPart) and part.text:
            text = change(part.text)
            if text != part.text:
                parts[i] = part.model_copy(update={"text": text})
                touched = True
    return message.model_copy(update={"content": parts}) if touched else message


def _empty(chunk: ChatChunk) -> bool:
    """Nothing left in it to send (its text was all held back)."""
    return (
        chunk.role is None
        and chunk.reasoning is None
        and chunk.tool_calls is None
        and chunk.finish_reason is None
        and chunk.usage is None
        and chunk.refusal is None
        and chunk.signature is None
        and chunk.redacted_thinking is None
        and chunk.failover is None
    )


__all__ = ["Policy", "StreamGuard", "policy_for"]
