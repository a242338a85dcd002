"""The request side of a preset's quirks, as pure functions keyed by :class:`Quirks` fields.

Two steps. :func:`fit_request` works on the canonical request: it refuses (or, under
``drop_unsupported``, drops) what the service cannot do, leaves out what it rejects but does
not need, and turns a JSON schema request into JSON mode plus a prompt where the service has no
native schema support. :func:`upstream_body` renders the fitted request with OpenAI's codec and
then adjusts the body: field names, ``tool_choice`` values, ``stream_options``, message names,
reasoning sent back in the history, and other services' options left out.
"""

from __future__ import annotations

from typing import Any

from switchyard.errors import InvalidRequest
from switchyard.formats.openai_chat import embedding_request_to_openai, request_to_openai
from switchyard.providers.openai_compatible.json_schema import with_schema_in_prompt
from switchyard.providers.openai_compatible.preset import Quirks
from switchyard.types import ChatRequest, EmbeddingRequest

_CANONICAL = frozenset(ChatRequest.model_fields)


def fit_request(
    request: ChatRequest, quirks: Quirks, *, provider: str, drop: bool
) -> tuple[ChatRequest, bool]:
    """The request as the service can take it, and whether its reply must be checked to be
    JSON (a schema asked for in the prompt). Raises ``InvalidRequest`` naming what the service
    cannot do, unless ``drop``."""
    update: dict[str, Any] = {}
    extra = dict(request.extra or {})
    refused: list[str] = []
    if request.tool_choice == "required" and quirks.tool_choice_required is None:
        refused.append("tool_choice")
        update["tool_choice"] = "auto"
    for param in sorted(quirks.unsupported_params):
        if _is_set(request, extra, param):
            refused.append(param)
            _unset(update, extra, param)
    if refused and not drop:
        what = ", ".join("tool_choice: required" if p == "tool_choice" else p for p in refused)
        raise InvalidRequest(
            f"provider {provider!r} does not support {what}; "
            "set drop_unsupported: true on the provider to drop it instead",
            provider=provider,
            param=refused[0],
        )
    for param in quirks.ignored_params:
        if _is_set(request, extra, param):
            _unset(update, extra, param)
    if extra != (request.extra or {}):
        update["extra"] = extra or None
    fitted = request.model_copy(update=update) if update else request
    fmt = fitted.response_format
    if fmt is not None and fmt.type == "json_schema" and not quirks.json_schema:
        return with_schema_in_prompt(fitted), True
    return fitted, False


def upstream_body(
    request: ChatRequest, quirks: Quirks, *, stream: bool, foreign: frozenset[str]
) -> dict[str, Any]:
    """The ``POST /chat/completions`` body for a fitted request."""
    body = request_to_openai(request, stream=stream, max_tokens_field=quirks.max_tokens_field)
    if body.get("tool_choice") == "required" and quirks.tool_choice_required is not None:
        body["tool_choice"] = quirks.tool_choice_required
    if not quirks.stream_usage_option:
        body.pop("stream_options", None)
    for key in foreign:
        body.pop(key, None)
    _rename(body, quirks)
    if not quirks.message_names or quirks.history_reasoning != "omit":
        # the wire may have more messages (a tool result's documents follow it as a user
        # message), never other assistant ones
        assistants = iter([m for m in request.messages if m.role == "assistant"])
        for wire in body["messages"]:
            if not quirks.message_names:
                wire.pop("name", None)
            message = next(assistants) if wire["role"] == "assistant" else None
            if (
                quirks.history_reasoning == "tool_turns"
                and quirks.reasoning_field is not None
                and message is not None
                and message.tool_calls
                and message.reasoning is not None
            ):
                wire[quirks.reasoning_field] = message.reasoning
    return body


def upstream_embedding_body(request: EmbeddingRequest, quirks: Quirks) -> dict[str, Any]:
    """The ``POST /embeddings`` body, with the service's names and without what it rejects."""
    body = embedding_request_to_openai(request)
    for key in quirks.ignored_params:
        body.pop(key, None)
    _rename(body, quirks)
    return body


def _rename(body: dict[str, Any], quirks: Quirks) -> None:
    for openai_name, own_name in quirks.renamed_params.items():
        if openai_name in body:
            body[own_name] = body.pop(openai_name)


def _is_set(request: ChatRequest, extra: dict[str, Any], param: str) -> bool:
    if param in _CANONICAL:
        return getattr(request, param) is not None
    return param in extra


def _unset(update: dict[str, Any], extra: dict[str, Any], param: str) -> None:
    if param in _CANONICAL:
        update[param] = None
    else:
        extra.pop(param, None)


__all__ = ["fit_request", "upstream_body", "upstream_embedding_body"]
