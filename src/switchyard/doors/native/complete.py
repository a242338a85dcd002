"""The native completion API's wire format: ``/api/v1/complete``, its SSE stream and its socket.

The pydantic models here are the contract: the handlers validate requests with them, and the
OpenAPI document (:mod:`switchyard.doors.native.openapi`) is generated from them. The
translation is pure (a body in, a canonical :class:`~switchyard.types.ChatRequest` out; a
canonical response, chunk or error in, a JSON-ready dict out), so any door that speaks this
format (the WebSocket, GraphQL later) shares it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from switchyard.doors.conversation import conversation
from switchyard.errors import InvalidRequest
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Cost,
    FinishReason,
    TemplateRef,
    Usage,
)
from switchyard.types.chat import MAX_TAGS, MAX_TEMPLATE_VARIABLES, Tag

MAX_STOP = 16  # stop sequences a request may send


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextContent(_Wire):
    type: Literal["text"] = "text"
    text: str


class ImageContent(_Wire):
    """An image by ``https://`` URL or ``data:image/...;base64,`` URL."""

    type: Literal["image"] = "image"
    url: str = Field(min_length=1)


class ToolCallOut(_Wire):
    """A tool call the model made; ``arguments`` is its JSON text, as the model wrote it."""

    id: str
    name: str
    arguments: str = ""


class NativeMessage(_Wire):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[TextContent | ImageContent] | None = None
    name: str | None = None
    tool_calls: list[ToolCallOut] | None = Field(
        default=None, description="assistant turns: the calls the model made"
    )
    tool_call_id: str | None = Field(default=None, description="tool turns: the call answered")


class NativeTool(_Wire):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="the arguments' JSON Schema",
    )


class ToolName(_Wire):
    name: str


class TemplateName(_Wire):
    """A prompt template by name and version (left out: the latest)."""

    name: str = Field(min_length=1, max_length=128)
    version: int | None = Field(default=None, ge=1)
    variables: dict[str, Any] | None = Field(
        default=None, max_length=MAX_TEMPLATE_VARIABLES, description="or top-level variables"
    )


class CompleteRequest(_Wire):
    """A completion request: ``messages`` or ``prompt`` (one of them, or neither with a
    ``template``, whose messages come first), the rest optional."""

    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="an alias or provider/model; default: server.default_model",
    )
    messages: list[NativeMessage] | None = Field(default=None, min_length=1)
    prompt: str | None = Field(default=None, min_length=1, description="one user message")
    system: str | None = Field(default=None, description="a system prompt, sent first")
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    tools: list[NativeTool] | None = None
    tool_choice: Literal["auto", "none", "required"] | ToolName | None = None
    user: str | None = Field(default=None, max_length=256)
    metadata: dict[str, str] | None = None
    tags: list[Tag] | None = Field(
        default=None, max_length=MAX_TAGS, description="labels kept on the usage row"
    )
    template: TemplateName | None = Field(
        default=None,
        description="a prompt template rendered before the messages: {name, version?}, or its "
        "name alone (a string)",
    )
    variables: dict[str, Any] | None = Field(
        default=None, max_length=MAX_TEMPLATE_VARIABLES, description="the template's variables"
    )

    @field_validator("template", mode="before")
    @classmethod
    def _name_alone(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_input(self) -> CompleteRequest:
        if self.messages is not None and self.prompt is not None:
            raise ValueError("send exactly one of messages and prompt")
        if self.template is None and self.messages is None and self.prompt is None:
            raise ValueError("send exactly one of messages and prompt (or a template)")
        if self.variables is not None and self.template is None:
            raise ValueError("variables: go with a template")
        if self.variables is not None and self.template is not None:
            if self.template.variables is not None:
                raise ValueError("variables: given twice (top level and in template)")
        if isinstance(self.stop, list) and len(self.stop) > MAX_STOP:
            raise ValueError(f"stop: at most {MAX_STOP} sequences")
        return self


class NativeUsage(_Wire):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0


class NativeCost(_Wire):
    """US dollars; null on an answer when the deployment has no price (never a fake 0)."""

    input: float
    output: float
    total: float


class NativePrices(_Wire):
    """USD per million tokens (``per_image``: per image)."""

    input: float
    output: float
    cached_input: float | None = None
    per_image: float | None = None


class ModelCapabilityFlags(_Wire):
    streaming: bool
    tools: bool
    vision: bool
    json_mode: bool
    embeddings: bool


class ModelFacts(_Wire):
    """What the catalog knows of a deployment (null fields: not known)."""

    provider: str
    model: str
    context_window: int | None = None
    max_output_tokens: int | None = None
    prices: NativePrices | None = None
    capabilities: ModelCapabilityFlags | None = None
    strengths: list[str] = Field(default_factory=list)
    use_cases: list[str] = Field(default_factory=list)
    quality: float | None = Field(default=None, description="0-100, an ordinal routing score")


class ModelEntry(_Wire):
    """An alias (its deployments in configured order) or a deployment (``provider/model``)."""

    id: str
    type: Literal["alias", "deployment"]
    deployments: list[ModelFacts]


class ModelList(_Wire):
    object: Literal["list"] = "list"
    data: list[ModelEntry]


class CompleteResponse(_Wire):
    id: str
    text: str
    model: str = Field(description="the upstream model that answered")
    provider: str = Field(description="the configured provider that answered")
    finish_reason: FinishReason | None
    tool_calls: list[ToolCallOut] | None = None
    usage: NativeUsage
    cost: NativeCost | None
    latency_ms: float
    capabilities: ModelFacts


class ToolCallChunk(_Wire):
    """A piece of a streamed tool call: ``index`` names the call; its ``id`` and ``name``
    come with its first piece, ``arguments`` in pieces to concatenate."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str | None = None


class ChunkEvent(_Wire):
    """``event: chunk`` (SSE) or ``{"type": "chunk"}`` (WebSocket): new text, tool-call pieces."""

    text: str | None = None
    tool_calls: list[ToolCallChunk] | None = None


class DoneEvent(_Wire):
    """``event: done`` / ``{"type": "done"}``: the stream ended normally."""

    id: str
    model: str
    provider: str
    finish_reason: FinishReason | None
    usage: NativeUsage | None
    cost: NativeCost | None
    latency_ms: float


ErrorType = Literal[
    "PROVIDER_ERROR",
    "RATE_LIMIT",
    "CONTEXT_LENGTH",
    "INVALID_REQUEST",
    "MODEL_NOT_FOUND",
    "TIMEOUT",
    "UNKNOWN",
]


class ErrorDetail(_Wire):
    type: ErrorType
    code: str = Field(description="the gateway's finer code (rate_limit_exceeded, ...)")
    message: str
    param: str | None = Field(default=None, description="the request field at fault")


class ErrorBody(_Wire):
    """Every error of the native API, and the ``event: error`` / ``{"type": "error"}`` data."""

    error: ErrorDetail


# -- request: wire -> canonical ----------------------------------------------------------------


def parse_request(body: dict[str, Any]) -> CompleteRequest:
    """Validate a request body; 400 naming the first field at fault."""
    try:
        return CompleteRequest.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> InvalidRequest:
    error = exc.errors(include_url=False)[0]
    param = ".".join(str(part) for part in error["loc"]) or None
    message = str(error["msg"]).removeprefix("Value error, ")
    named = _NAMED.match(message) if param is None else None
    if named is not None:  # a whole-request check that names its field ("variables: ...")
        param, message = named.group(1), named.group(2)
    return InvalidRequest(f"{param or 'body'}: {message}", param=param)


_NAMED = re.compile(r"^([a-z_][a-z_.]*): (.+)$", re.DOTALL)


def to_chat_request(request: CompleteRequest, model: str, *, stream: bool) -> ChatRequest:
    """The canonical request; ``model`` is the one to ask for (the request's, or the default).

    Built as plain data and validated once (strictly, as the OpenAI door does): the wire
    model has checked every field already, so this costs one pass, not one per message."""
    turns = None if request.messages is None else map(_message, request.messages)
    data: dict[str, Any] = {
        "model": model,
        "messages": conversation(request.system, request.prompt, turns),
    }
    for field in _PASSED:
        value = getattr(request, field)
        if value is not None:
            data[field] = value
    if request.stop is not None:
        data["stop"] = [request.stop] if isinstance(request.stop, str) else request.stop
    if request.tools is not None:
        data["tools"] = [t.model_dump(exclude_none=True) for t in request.tools]
    choice = request.tool_choice
    if choice is not None:
        data["tool_choice"] = {"name": choice.name} if isinstance(choice, ToolName) else choice
    if stream:
        data["stream"] = data["include_usage"] = True
    if request.template is not None:
        data["template"] = _template_ref(request)
    try:
        return ChatRequest.model_validate(data, strict=True)
    except ValidationError as exc:  # what the canonical model refuses beyond the wire
        raise _invalid(exc) from None


def _template_ref(request: CompleteRequest) -> TemplateRef:
    """The request's template with its variables (top-level ``variables``, or the template
    object's), and where each was found for an error's ``param``."""
    named = request.template
    assert named is not None
    if named.variables is not None:
        variables, where = named.variables, "template.variables"
    else:
        variables, where = request.variables or {}, "variables"
    return TemplateRef(
        name=named.name,
        version=named.version,
        variables=variables,
        param="template",
        variables_param=where,
    )


# fields that mean the same on the wire and in the canonical request
_PASSED = ("temperature", "top_p", "max_tokens", "seed", "user", "metadata", "tags")


def _message(message: NativeMessage) -> dict[str, Any]:
    """The canonical message's data: the wire's parts and tool calls have its shape."""
    return message.model_dump(exclude_none=True)


# -- replies: canonical -> wire ------------------------------------------------------------------


def usage_to_native(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }


def cost_to_native(cost: Cost | None) -> dict[str, float] | None:
    """The cost in USD; ``total`` is the decimal the usage ledger keeps (10 places)."""
    if cost is None:
        return None
    return {"input": cost.input, "output": cost.output, "total": float(cost.exact_total)}


def response_to_native(
    response: ChatResponse, facts: dict[str, Any], latency_ms: float
) -> dict[str, Any]:
    """A :class:`CompleteResponse`; ``facts`` is the answering deployment's
    :class:`ModelFacts`, ``latency_ms`` the time the gateway took."""
    served = response.served_by
    choice = response.choices[0]
    body: dict[str, Any] = {
        "id": response.id,
        "text": choice.message.text(),
        "model": served.model if served is not None else response.model,
        "provider": response.provider,
        "finish_reason": choice.finish_reason,
    }
    calls = choice.message.tool_calls
    if calls:
        body["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]
    body["usage"] = usage_to_native(response.usage)
    body["cost"] = cost_to_native(response.cost)
    body["latency_ms"] = round(latency_ms, 3)
    body["capabilities"] = facts
    return body


def chunk_to_native(chunk: ChatChunk) -> dict[str, Any] | None:
    """A :class:`ChunkEvent`, or None for a chunk with nothing new to show (a role, a finish
    reason or the usage alone: those come with the ``done`` event)."""
    body: dict[str, Any] = {}
    if chunk.text:
        body["text"] = chunk.text
    if chunk.tool_calls:
        body["tool_calls"] = [
            {
                k: v
                for k, v in (
                    ("index", d.index),
                    ("id", d.id),
                    ("name", d.name),
                    ("arguments", d.arguments),
                )
                if v is not None
            }
            for d in chunk.tool_calls
        ]
    return body or None


def done_to_native(
    stream_id: str,
    model: str,
    provider: str,
    finish_reason: FinishReason | None,
    usage: Usage | None,
    cost: Cost | None,
    latency_ms: float,
) -> dict[str, Any]:
    """A :class:`DoneEvent`."""
    return {
        "id": stream_id,
        "model": model,
        "provider": provider,
        "finish_reason": finish_reason,
        "usage": None if usage is None else usage_to_native(usage),
        "cost": cost_to_native(cost),
        "latency_ms": round(latency_ms, 3),
    }


__all__ = [
    "ChunkEvent",
    "CompleteRequest",
    "CompleteResponse",
    "DoneEvent",
    "ErrorBody",
    "ErrorDetail",
    "ErrorType",
    "ModelEntry",
    "ModelFacts",
    "ModelList",
    "NativeMessage",
    "NativeTool",
    "TemplateName",
    "chunk_to_native",
    "cost_to_native",
    "done_to_native",
    "parse_request",
    "response_to_native",
    "to_chat_request",
    "usage_to_native",
]
