"""The reply side of a preset's quirks, as pure functions keyed by :class:`Quirks` fields.

:func:`read_reply` turns a service's completion or chunk payload into the OpenAI shape the
codec reads (reasoning field, finish reasons, usage), after raising the error a 200 reply may
carry; it returns a new payload and leaves its input as it was. :func:`remap_error` applies
the statuses that mean something finer for a service than in OpenAI's table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.errors import SwitchyardError
from switchyard.formats.openai_chat import map_openai_error_payload
from switchyard.providers.openai_compatible.preset import Quirks

_REASONING_KEYS = ("reasoning_content", "reasoning")


def read_reply(payload: dict[str, Any], quirks: Quirks, provider: str) -> dict[str, Any]:
    """A ``chat.completion`` or ``chat.completion.chunk`` payload as the codec should read it."""
    if quirks.errors_in_body:
        raise_body_error(payload, provider, quirks)
    out = payload
    choices = payload.get("choices")
    if isinstance(choices, list) and (quirks.reasoning_field or quirks.finish_reasons):
        out = {**payload, "choices": [_choice(choice, quirks) for choice in choices]}
    usage = _usage(payload, quirks)
    if usage is not payload.get("usage"):
        out = {**out, "usage": usage}
    return out


def raise_body_error(payload: Mapping[str, Any], provider: str, quirks: Quirks) -> None:
    """Raise the error a 200 reply carries at its top level or in one of its choices."""
    if isinstance(payload.get("error"), dict | str):
        raise remap_error(map_openai_error_payload(payload, provider), quirks)
    for choice in payload.get("choices") or ():
        if isinstance(choice, dict) and isinstance(choice.get("error"), dict | str):
            error = map_openai_error_payload({"error": choice["error"]}, provider)
            raise remap_error(error, quirks)


def remap_error(error: SwitchyardError, quirks: Quirks) -> SwitchyardError:
    """``error`` as the class its upstream status means for this service, when that differs."""
    cls = quirks.error_statuses.get(error.upstream_status or 0)
    if cls is None or type(error) is cls:
        return error
    remapped = cls(
        error.message,
        provider=error.provider,
        param=error.param,
        retry_after=error.retry_after,
        upstream_status=error.upstream_status,
    )
    remapped.__cause__ = error.__cause__
    return remapped


def _choice(choice: Any, quirks: Quirks) -> Any:
    if not isinstance(choice, dict):
        return choice
    out = dict(choice)
    reason = out.get("finish_reason")
    if isinstance(reason, str) and reason in quirks.finish_reasons:
        out["finish_reason"] = quirks.finish_reasons[reason]
    field = quirks.reasoning_field
    for key in ("message", "delta"):
        inner = out.get(key)
        if field is not None and isinstance(inner, dict):
            text = inner.get(field)
            moved = {k: v for k, v in inner.items() if k not in _REASONING_KEYS and k != field}
            if text is not None:
                moved["reasoning_content"] = text
            out[key] = moved
    return out


def _usage(payload: Mapping[str, Any], quirks: Quirks) -> Any:
    usage = payload.get("usage")
    if usage is None and quirks.stream_usage_field is not None:
        carrier = payload.get(quirks.stream_usage_field)
        if isinstance(carrier, dict) and isinstance(carrier.get("usage"), dict):
            usage = carrier["usage"]
    field = quirks.cached_tokens_field
    if field is None or not isinstance(usage, dict):
        return usage
    hits = usage.get(field)
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    if not isinstance(hits, int) or details.get("cached_tokens"):
        return usage
    return {**usage, "prompt_tokens_details": {**details, "cached_tokens": hits}}


__all__ = ["raise_body_error", "read_reply", "remap_error"]
