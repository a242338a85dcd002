"""Refuse (or, when configured, drop) what a provider cannot do, instead of losing it silently.

A request that uses tools, images, documents or a JSON response format sent to an adapter
that does not declare that capability gets a clear ``InvalidRequest`` naming the capability
and the provider.
With ``drop_unsupported: true`` in the provider's settings the feature is removed from the
request instead, as LiteLLM's ``drop_params`` does.
"""

from __future__ import annotations

from typing import Any

from switchyard.errors import InvalidRequest
from switchyard.providers.base import Capabilities
from switchyard.types import ChatRequest, FilePart, ImagePart, Message


def missing_capabilities(request: ChatRequest, capabilities: Capabilities) -> list[str]:
    """The capabilities ``request`` needs that ``capabilities`` lacks, as config-facing names."""
    missing: list[str] = []
    if request.tools and not capabilities.tools:
        missing.append("tools")
    if _has(request.messages, ImagePart) and not capabilities.vision:
        missing.append("vision")
    if _has(request.messages, FilePart) and not capabilities.documents:
        missing.append("documents")
    fmt = request.response_format
    if fmt is not None and fmt.type != "text" and not capabilities.json_mode:
        missing.append("json_mode")
    if request.stream and not capabilities.stream:
        missing.append("stream")
    return missing


def fit_request(
    request: ChatRequest, capabilities: Capabilities, *, provider: str, drop: bool
) -> ChatRequest:
    """``request`` unchanged when the provider can serve it; otherwise raise, or (``drop``)
    a copy without the unsupported features."""
    missing = missing_capabilities(request, capabilities)
    if not missing:
        return request
    if not drop or "stream" in missing:
        params = {
            "tools": "tools",
            "vision": "messages",
            "documents": "messages",
            "json_mode": "response_format",
        }
        raise InvalidRequest(
            f"provider {provider!r} does not support {', '.join(missing)}; "
            "set drop_unsupported: true on the provider to drop it instead",
            provider=provider,
            param=params.get(missing[0], missing[0]),
        )
    update: dict[str, Any] = {}
    if "tools" in missing:
        update.update(tools=None, tool_choice=None, parallel_tool_calls=None)
    dropped = tuple(
        kind for name, kind in (("vision", ImagePart), ("documents", FilePart)) if name in missing
    )
    if dropped:
        update["messages"] = [_without(m, dropped) for m in request.messages]
    if "json_mode" in missing:
        update["response_format"] = None
    return request.model_copy(update=update)


def _has(messages: list[Message], kind: type[ImagePart | FilePart]) -> bool:
    return any(
        isinstance(m.content, list) and any(isinstance(p, kind) for p in m.content)
        for m in messages
    )


def _without(message: Message, kinds: tuple[type[ImagePart | FilePart], ...]) -> Message:
    if not isinstance(message.content, list):
        return message
    parts = [p for p in message.content if not isinstance(p, kinds)]
    return message.model_copy(update={"content": parts})


__all__ = ["fit_request", "missing_capabilities"]
