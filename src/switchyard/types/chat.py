"""Canonical chat types: the hub every front door and every provider translates to and from."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.types.ratelimits import RateLimitStatus
from switchyard.types.usage import Cost, Usage

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# A prompt-caching marker as the caller sent it (Anthropic's ``{"type": "ephemeral",
# "ttl"?: "5m" | "1h"}``): an upstream that caches prompt prefixes by marker (the ``anthropic``
# adapter) puts it on the block made from the part; the others ignore it.
CacheMarker = dict[str, Any]


class TextPart(_Model):
    type: Literal["text"] = "text"
    text: str
    cache_control: CacheMarker | None = None


class ImagePart(_Model):
    """An image by URL: ``https://...`` or a ``data:image/png;base64,...`` URL."""

    type: Literal["image"] = "image"
    url: str
    detail: Literal["auto", "low", "high"] | None = None
    cache_control: CacheMarker | None = None

    @property
    def is_data_url(self) -> bool:
        return self.url.startswith("data:")


class FilePart(_Model):
    """A document by URL: a ``data:application/pdf;base64,...`` URL, or an ``https://`` one.

    ``mime_type`` says what it is: ``application/pdf``, or ``text/plain`` for a plain-text
    document (Anthropic's ``text`` source, kept as its UTF-8 bytes in base64, so that it goes
    back to Anthropic as the same document); a door may keep another type it was given (a
    Gemini ``inlineData``) for the upstreams that read it. ``filename`` is OpenAI's filename
    or Anthropic's document title. ``context`` and ``citations`` are Anthropic's document
    fields: the ``anthropic`` adapter puts them on the block made from the part; the others,
    like ``cache_control``, ignore them."""

    type: Literal["file"] = "file"
    url: str
    mime_type: str
    filename: str | None = None
    context: str | None = None
    citations: dict[str, Any] | None = None
    cache_control: CacheMarker | None = None

    @property
    def is_data_url(self) -> bool:
        return self.url.startswith("data:")

    @property
    def base64_data(self) -> str | None:
        """The base64 payload of a ``data:<type>;base64,`` URL; None for any other URL."""
        header, comma, data = self.url.partition(",")
        return data if self.is_data_url and comma and header.endswith(";base64") else None

    @property
    def name(self) -> str:
        """A filename for an upstream that wants one: ``filename`` (an Anthropic title, such
        as ``Q3 report``, with the type's extension added), else ``document.pdf`` (and so on)."""
        name = self.filename or "document"
        if PurePosixPath(name).suffix:
            return name
        return name + (mimetypes.guess_extension(self.mime_type) or "")

    def plain_text(self) -> str | None:
        """A ``text/plain`` document's text; None for another type, a document given by URL,
        or data that is not base64 of UTF-8 text."""
        data = self.base64_data
        if self.mime_type != "text/plain" or data is None:
            return None
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            return None


ContentPart = Annotated[TextPart | ImagePart | FilePart, Field(discriminator="type")]


class ToolCall(_Model):
    """A call the model asked for; ``arguments`` is the raw JSON text, kept byte for byte.

    ``thought_signature`` is Gemini's opaque ``thoughtSignature`` of the part that carried the
    call: Gemini 3 models refuse a replayed function call without it, so it is kept for the
    ``gemini`` adapter (and the Gemini door's replies); every other format leaves it out."""

    id: str
    name: str
    arguments: str = ""
    cache_control: CacheMarker | None = None
    thought_signature: str | None = None


class ThinkingBlock(_Model):
    """A block of the model's extended thinking, kept whole so it can be sent back: Anthropic
    wants an assistant turn's ``thinking`` blocks returned with their ``signature``, and its
    ``redacted_thinking`` blocks (``data``, encrypted) as they came. Other upstreams know only
    the text (``Message.reasoning``)."""

    type: Literal["thinking", "redacted_thinking"] = "thinking"
    thinking: str = ""
    signature: str | None = None
    data: str | None = None


class Message(_Model):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    reasoning: str | None = None
    refusal: str | None = None
    thinking: list[ThinkingBlock] | None = None  # an assistant turn's, in order (see above)
    cache_control: CacheMarker | None = None  # a tool message's: on its tool result
    is_error: bool | None = None  # a tool message's: the tool failed (Anthropic's tool_result)

    def text(self) -> str:
        """The message's text, parts joined; images and documents are left out."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


class Tool(_Model):
    name: str
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None
    cache_control: CacheMarker | None = None


class NamedToolChoice(_Model):
    name: str


ToolChoice = Literal["auto", "none", "required"] | NamedToolChoice


class JsonSchemaFormat(_Model):
    name: str
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ResponseFormat(_Model):
    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchemaFormat | None = None


CacheStatus = Literal["hit", "miss", "skip"]


class CacheControl(_Model):
    """A request's say over the response cache (``"switchyard": {"cache": {...}}``, or the
    ``Cache-Control: no-cache | no-store`` request header at the OpenAI door): ``no_cache``
    does not look the answer up (it is still stored, unless ``no_store``), ``no_store`` keeps
    this answer out of the cache, ``ttl`` (seconds) is how long this answer is kept."""

    ttl: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    no_cache: bool = False
    no_store: bool = False


MAX_TAGS, MAX_TAG_LENGTH = 16, 64
Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_LENGTH, pattern=r"^[\x21-\x7e]+$")]


class Reasoning(_Model):
    """How hard a reasoning model should think, as any door said it: ``effort`` (OpenAI's
    ``reasoning.effort``, Gemini's ``thinkingLevel``) and/or ``budget_tokens`` (Anthropic's
    thinking budget, Gemini's ``thinkingBudget``). Each adapter maps it onto its upstream's own
    knob; an upstream without one ignores it."""

    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    budget_tokens: int | None = Field(default=None, ge=0)


class FormatFields(_Model):
    """Fields of the caller's wire format that the canonical request has no place for (for the
    Anthropic door: ``thinking``, ``top_k``, a top-level ``cache_control``, ...), and the
    caller's headers of that format (``anthropic-beta``), sent as they are to an upstream that
    speaks the same ``format`` and left out for every other."""

    format: Literal["anthropic", "openai_responses", "gemini"]
    fields: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)


MAX_TEMPLATE_VARIABLES = 64


class TemplateRef(_Model):
    """A prompt template the request names: ``"switchyard": {"template": {"name", "version"?,
    "variables"?}}`` at the OpenAI and Anthropic doors, ``template`` and ``variables`` at the
    native one, ``template=`` in the library. The Gateway renders it into messages put before
    the request's own (:mod:`switchyard.templates`); ``version`` None: the latest.

    ``param`` and ``variables_param`` say where the door found the reference and its
    variables in the caller's body, so an error names the caller's own field; they are not
    part of the request's meaning (never serialized)."""

    name: str = Field(min_length=1, max_length=128)
    version: int | None = Field(default=None, ge=1)
    variables: dict[str, Any] = Field(default_factory=dict, max_length=MAX_TEMPLATE_VARIABLES)
    param: str = Field(default="template", exclude=True)
    variables_param: str = Field(default="template.variables", exclude=True)


class ChatRequest(_Model):
    """A chat completion request in the gateway's own terms.

    ``model`` is what the caller asked for (an alias or ``provider/model``); the gateway hands
    each provider a copy whose ``model`` is the upstream model name. ``extra`` carries
    provider-specific parameters through untouched.
    """

    model: str
    messages: list[Message]
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    n: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    stream: bool = False
    include_usage: bool = False
    extra: dict[str, Any] | None = None
    format_fields: FormatFields | None = None
    reasoning: Reasoning | None = None
    # gateway controls
    cache: CacheControl | None = None
    timeout: float | None = Field(default=None, ge=0, allow_inf_nan=False)  # seconds
    fallbacks: list[str] | None = None
    # free labels for accounting, kept on the usage row (printable, no spaces; bounded)
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    prefer: str | None = None  # a provider name to try first
    # a prompt template to render before the request's messages (the Gateway does, first)
    template: TemplateRef | None = None


class Choice(_Model):
    index: int = 0
    message: Message
    finish_reason: FinishReason | None = "stop"
    stop_sequence: str | None = None  # which of the request's ``stop`` ended it, when known


class AbandonedAttempt(_Model):
    """An attempt that lost a hedged race (see ``hedge`` on a model alias).

    ``answered`` says it had already answered (a whole reply, or a stream's first chunk) when
    another won; only then may ``usage`` and ``cost`` be known. A cancelled upstream request may
    still be billed by its provider for the tokens it processed before the connection closed:
    the gateway cannot see that, so it is not in ``usage``."""

    provider: str
    model: str
    answered: bool = False
    usage: Usage | None = None
    cost: Cost | None = None


class ServedBy(_Model):
    """Which deployment answered and what it took: the gateway fills this in.

    ``attempts`` counts every attempt started, hedges included; ``hedged`` says the answer came
    from a hedge (an attempt started while an earlier one was still running); ``abandoned``
    lists the attempts that lost a hedged race."""

    provider: str
    model: str
    attempts: int = 1
    upstream_ms: float = 0.0
    hedged: bool = False
    abandoned: list[AbandonedAttempt] = Field(default_factory=list)
    # the tightest rate limit the request met (the x-ratelimit-* headers); not serialized
    rate_limits: RateLimitStatus | None = Field(default=None, exclude=True)

    @property
    def extra_cost(self) -> Cost | None:
        """What the abandoned attempts are known to have cost (None when nothing is known)."""
        costs = [a.cost for a in self.abandoned if a.cost is not None]
        return sum(costs[1:], costs[0]) if costs else None


class ChatResponse(_Model):
    id: str
    created: int
    model: str
    provider: str = ""
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)
    cost: Cost | None = None
    latency_ms: float | None = None
    system_fingerprint: str | None = None
    served_by: ServedBy | None = None
    cache_status: CacheStatus | None = None  # None: no response cache configured
    cache_similarity: float | None = None  # a semantic cache hit's cosine similarity

    @property
    def message(self) -> Message:
        return self.choices[0].message

    @property
    def text(self) -> str:
        return self.choices[0].message.text()


class ToolCallDelta(_Model):
    """A piece of a streamed tool call; ``index`` identifies the call within the response."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str | None = None
    thought_signature: str | None = None  # Gemini's, with the call's first piece (see ToolCall)


class StreamFailover(_Model):
    """Carried by the first chunk after a mid-stream failover (``mid_stream_failover`` on a
    model alias): the deployment whose stream broke, the one continuing it, and why."""

    from_deployment: str  # "provider/model"
    to_deployment: str
    reason: str


class ChatChunk(_Model):
    """One streamed piece of a response. The last chunk may carry only ``usage``; ``failover``
    marks the first chunk a new deployment sent after the stream broke mid-way."""

    id: str
    created: int
    model: str
    index: int = 0
    role: Literal["assistant"] | None = None
    text: str | None = None
    reasoning: str | None = None
    # the signature that closes a thinking block (whose text came as ``reasoning``), and a
    # whole ``redacted_thinking`` block's data: Anthropic's, relayed for the Anthropic door
    signature: str | None = None
    redacted_thinking: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    finish_reason: FinishReason | None = None
    stop_sequence: str | None = None  # with the finish reason: which ``stop`` ended it, if known
    usage: Usage | None = None
    cost: Cost | None = None
    system_fingerprint: str | None = None
    failover: StreamFailover | None = None


__all__ = [
    "AbandonedAttempt",
    "CacheControl",
    "CacheMarker",
    "CacheStatus",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "Choice",
    "ContentPart",
    "FilePart",
    "FinishReason",
    "FormatFields",
    "ImagePart",
    "JsonSchemaFormat",
    "Message",
    "NamedToolChoice",
    "ResponseFormat",
    "Role",
    "ServedBy",
    "StreamFailover",
    "TemplateRef",
    "TextPart",
    "ThinkingBlock",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
]
