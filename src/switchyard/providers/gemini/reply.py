"""Gemini replies -> canonical responses (chat, embeddings, model lists). Pure.

- Text parts are the answer; parts with ``thought: true`` are the reasoning.
- A ``functionCall`` becomes a tool call whose ``arguments`` are :func:`arguments_json` of its
  ``args``; its ``id`` is Gemini's when sent, else ``call_<n>`` (``n`` counts the candidate's
  calls from 0), so the same reply always gives the same ids, streamed or not.
- ``finishReason``: STOP -> stop, MAX_TOKENS -> length, SAFETY / RECITATION / BLOCKLIST /
  PROHIBITED_CONTENT / SPII (and the image and language variants) -> content_filter,
  MALFORMED_FUNCTION_CALL and the other tool-call failures -> error, anything else -> stop;
  a candidate with a function call finishes with tool_calls unless it was filtered.
- A prompt blocked by ``promptFeedback.blockReason``, or a reply whose every candidate was
  filtered before saying anything, raises ``ContentFiltered``.
- Usage: see :meth:`UsageMetadata.canonical`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from switchyard.errors import ContentFiltered, UpstreamProtocolError, protocol_error
from switchyard.providers.gemini.translate import arguments_json
from switchyard.providers.gemini.wire import (
    BatchEmbedContentsResponse,
    Candidate,
    EmbedContentResponse,
    GenerateContentResponse,
    ListModelsResponse,
    Part,
    PromptFeedback,
)
from switchyard.types import (
    ChatResponse,
    Choice,
    EmbeddingResponse,
    FinishReason,
    Message,
    ToolCall,
    Usage,
)

WireT = TypeVar("WireT", bound=BaseModel)

_FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "LANGUAGE",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)
_FAILED_CALLS = frozenset(
    {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"}
)


def finish_reason(raw: str | None, *, called: bool) -> FinishReason | None:
    """The canonical finish reason of a Gemini ``finishReason`` (None: not finished yet)."""
    if raw is None:
        return None
    if raw in _FILTERED:
        return "content_filter"
    if raw in _FAILED_CALLS:
        return "error"
    if called:
        return "tool_calls"
    return "length" if raw == "MAX_TOKENS" else "stop"


def is_filtered(raw: str | None) -> bool:
    return raw in _FILTERED


def tool_call(part: Part, n: int) -> ToolCall:
    """The canonical call for the candidate's ``n``-th function call part (0-based), with the
    part's ``thoughtSignature``."""
    call = part.function_call
    assert call is not None
    return ToolCall(
        id=call.id or f"call_{n}",
        name=call.name,
        arguments=arguments_json(call.args),
        thought_signature=part.thought_signature,
    )


def split_parts(parts: list[Part]) -> tuple[str, str, list[Part]]:
    """``(answer text, reasoning text, function call parts)`` of a candidate's parts."""
    text: list[str] = []
    thoughts: list[str] = []
    calls: list[Part] = []
    for part in parts:
        if part.function_call is not None:
            calls.append(part)
        elif part.text is not None:
            (thoughts if part.thought else text).append(part.text)
    return "".join(text), "".join(thoughts), calls


def blocked_prompt(feedback: PromptFeedback | None, provider: str | None) -> ContentFiltered | None:
    if feedback is None or feedback.block_reason is None:
        return None
    detail = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
    return ContentFiltered(
        f"Gemini blocked the prompt ({feedback.block_reason}){detail}",
        provider=provider,
        param="messages",
    )


def filtered_reply(reason: str, provider: str | None) -> ContentFiltered:
    return ContentFiltered(
        f"Gemini withheld the reply ({reason})", provider=provider, param="messages"
    )


def parse(model: type[WireT], payload: Any, what: str, provider: str | None) -> WireT:
    """``payload`` as the wire model, or ``UpstreamProtocolError`` naming what is wrong."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise protocol_error(what, exc, provider, source="Gemini") from exc


def response_from_gemini(
    payload: Any, *, provider: str, model: str, created: int, fallback_id: str
) -> ChatResponse:
    """A ``generateContent`` reply as a canonical response. ``model`` is used when the reply
    names no ``modelVersion``; ``fallback_id`` when it has no ``responseId``."""
    wire = parse(GenerateContentResponse, payload, "generateContent reply", provider)
    blocked = blocked_prompt(wire.prompt_feedback, provider)
    if blocked is not None and not wire.candidates:
        raise blocked
    if not wire.candidates:
        raise UpstreamProtocolError("Gemini reply has no candidates", provider=provider)
    choices = [_choice(candidate) for candidate in wire.candidates]
    pairs = zip(wire.candidates, choices, strict=True)
    if all(_withheld(candidate, choice) for candidate, choice in pairs):
        raise filtered_reply(wire.candidates[0].finish_reason or "", provider)
    return ChatResponse(
        id=wire.response_id or fallback_id,
        created=created,
        model=wire.model_version or model,
        provider=provider,
        choices=choices,
        usage=wire.usage_metadata.canonical() if wire.usage_metadata is not None else Usage(),
    )


def _choice(candidate: Candidate) -> Choice:
    parts = candidate.content.parts if candidate.content is not None else []
    text, reasoning, calls = split_parts(parts)
    tool_calls = [tool_call(call, n) for n, call in enumerate(calls)]
    return Choice(
        index=candidate.index,
        message=Message(
            role="assistant",
            content=text if text or not tool_calls else None,
            tool_calls=tool_calls or None,
            reasoning=reasoning or None,
        ),
        finish_reason=finish_reason(candidate.finish_reason or "STOP", called=bool(tool_calls)),
    )


def _withheld(candidate: Candidate, choice: Choice) -> bool:
    message = choice.message
    return is_filtered(candidate.finish_reason) and not message.text() and not message.tool_calls


# -- embeddings and models ----------------------------------------------------------------------


def embeddings_from_gemini(
    payload: Any, *, batch: bool, expected: int, provider: str, model: str
) -> EmbeddingResponse:
    if batch:
        vectors = [
            e.values
            for e in parse(BatchEmbedContentsResponse, payload, "embeddings", provider).embeddings
        ]
    else:
        vectors = [parse(EmbedContentResponse, payload, "embedding", provider).embedding.values]
    if len(vectors) != expected:
        raise UpstreamProtocolError(
            f"Gemini returned {len(vectors)} embeddings for {expected} inputs", provider=provider
        )
    return EmbeddingResponse(model=model, provider=provider, data=vectors)


def models_from_gemini(payload: Any, provider: str) -> tuple[list[str], str | None]:
    """``(model ids without the models/ prefix, next page token)``."""
    wire = parse(ListModelsResponse, payload, "model list", provider)
    return [m.name.removeprefix("models/") for m in wire.models], wire.next_page_token or None


__all__ = [
    "blocked_prompt",
    "embeddings_from_gemini",
    "filtered_reply",
    "finish_reason",
    "is_filtered",
    "models_from_gemini",
    "parse",
    "response_from_gemini",
    "split_parts",
    "tool_call",
]
