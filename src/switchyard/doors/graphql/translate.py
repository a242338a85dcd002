"""Completions between GraphQL and the canonical types: pure functions, no I/O.

``CompletionInput`` becomes the fields of a :class:`~switchyard.types.ChatRequest` (the Gateway
validates them, so a bad field is refused there with its name, and recorded); a
:class:`~switchyard.types.ChatResponse` becomes a ``CompletionResponse``; a stream's chunks
become items with the text as it arrives, then one last item (``done``) with the finish
reason, usage and cost (:class:`StreamItems`).
"""

from __future__ import annotations

from typing import Any

from switchyard.doors.conversation import conversation
from switchyard.doors.graphql.objects import (
    CompletionInput,
    CompletionResponse,
    CostUsd,
    TokenUsage,
)
from switchyard.errors import InvalidRequest
from switchyard.types import ChatChunk, ChatResponse, Cost, Usage


def chat_fields(request: CompletionInput, model: str) -> dict[str, Any]:
    """The ``ChatRequest`` fields of ``request`` (``model``: the one asked for or the default):
    ``system`` first, then ``messages`` or ``prompt`` (one of the two, not both; neither with
    a ``template``)."""
    if request.messages is not None and request.prompt is not None:
        raise InvalidRequest("give messages or prompt, not both", param="prompt")
    if not request.messages and request.prompt is None and request.template is None:
        raise InvalidRequest("give messages (a non-empty list) or prompt", param="messages")
    given = request.messages
    turns = None if given is None else ({"role": m.role, "content": m.content} for m in given)
    fields: dict[str, Any] = {
        "model": model,
        "messages": conversation(request.system, request.prompt, turns),
    }
    optional = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
        "user": request.user,
        "metadata": request.metadata,
    }
    fields.update((name, value) for name, value in optional.items() if value is not None)
    template = request.template
    if template is not None:  # the Gateway validates it (``variables``: an object)
        fields["template"] = {
            "name": template.name,
            "version": template.version,
            "variables": {} if template.variables is None else template.variables,
            "param": "input.template",
            "variables_param": "input.template.variables",
        }
    return fields


def token_usage(usage: Usage) -> TokenUsage:
    return TokenUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        reasoning_tokens=usage.reasoning_tokens,
    )


def cost_usd(cost: Cost | None) -> CostUsd | None:
    return None if cost is None else CostUsd(input=cost.input, output=cost.output, total=cost.total)


def completion(response: ChatResponse, latency_ms: float) -> CompletionResponse:
    """The mutation's answer: the first choice's text (tool calls are not offered here)."""
    choice = response.choices[0] if response.choices else None
    content = choice.message.content if choice is not None else None
    if isinstance(content, list):  # text parts (a provider may answer in parts)
        content = "".join(getattr(part, "text", "") for part in content)
    return CompletionResponse(
        id=response.id,
        text=content or "",
        model=response.model,
        provider=response.provider or None,
        finish_reason=choice.finish_reason if choice is not None else None,
        usage=token_usage(response.usage),
        cost=cost_usd(response.cost),
        latency_ms=round(latency_ms, 3),
        cache=response.cache_status,
        done=True,
    )


class StreamItems:
    """A stream's chunks as subscription items; remembers what the last item reports."""

    def __init__(self, provider: str | None, cache: str | None) -> None:
        self.provider = provider
        self.cache = cache
        self.id = ""
        self.model = ""
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.cost: Cost | None = None

    def item(self, chunk: ChatChunk) -> CompletionResponse | None:
        """The chunk's new text as an item; None when it carries none (a role, the finish
        reason or the usage alone: those come with the last item)."""
        if not self.id:
            self.id, self.model = chunk.id, chunk.model
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.cost is not None:
            self.cost = chunk.cost
        if not chunk.text:
            return None
        return CompletionResponse(
            id=self.id,
            text=chunk.text,
            model=self.model,
            provider=self.provider,
            finish_reason=None,
            usage=None,
            cost=None,
            latency_ms=None,
            cache=self.cache,
            done=False,
        )

    def last(self, latency_ms: float) -> CompletionResponse:
        """The item that ends the stream (no text of its own)."""
        return CompletionResponse(
            id=self.id,
            text="",
            model=self.model,
            provider=self.provider,
            finish_reason=self.finish_reason,
            usage=None if self.usage is None else token_usage(self.usage),
            cost=cost_usd(self.cost),
            latency_ms=round(latency_ms, 3),
            cache=self.cache,
            done=True,
        )


__all__ = ["StreamItems", "chat_fields", "completion", "cost_usd", "token_usage"]
