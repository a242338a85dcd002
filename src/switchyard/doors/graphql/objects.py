"""The GraphQL door's types: what a client may send (inputs) and what it gets back.

Field names are written in snake_case here and served in camelCase (``max_tokens`` is
``maxTokens``), Strawberry's default. Money is in US dollars as floats (the usage summary's
exact decimal is also given as a string, as ``GET /api/v1/usage/summary`` gives it).
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON


@strawberry.input(description="One message of the conversation.")
class MessageInput:
    role: str = strawberry.field(description="system, user or assistant")
    content: str


@strawberry.input(description="A prompt template, rendered before the messages.")
class TemplateInput:
    name: str
    version: int | None = strawberry.field(default=None, description="default: the latest")
    variables: JSON | None = strawberry.field(default=None, description="name -> value")


@strawberry.input(
    description="A completion request: the native REST API's (POST /api/v1/complete) fields."
)
class CompletionInput:
    model: str | None = strawberry.field(
        default=None,
        description="an alias or provider/model; default: the key's tenant default, else the "
        "first configured alias",
    )
    messages: list[MessageInput] | None = strawberry.field(
        default=None, description="the conversation (or give prompt)"
    )
    prompt: str | None = strawberry.field(default=None, description="one user message")
    system: str | None = strawberry.field(default=None, description="a system prompt, first")
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    user: str | None = None
    metadata: JSON | None = strawberry.field(
        default=None, description="string keys to string values, kept with the request"
    )
    template: TemplateInput | None = strawberry.field(
        default=None,
        description="a prompt template rendered before the messages (then messages and prompt "
        "may be left out)",
    )


@strawberry.type
class TokenUsage:
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int


@strawberry.type(description="US dollars, from the catalog's or the deployment's prices.")
class CostUsd:
    input: float
    output: float
    total: float


@strawberry.type(
    description="A completion, or one item of a completion stream: items carry the text as "
    "it arrives (done false); the last one (done true) carries finishReason, usage and cost."
)
class CompletionResponse:
    id: str
    text: str
    model: str
    provider: str | None
    finish_reason: str | None
    usage: TokenUsage | None
    cost: CostUsd | None = strawberry.field(description="null when the model has no price")
    latency_ms: float | None
    cache: str | None = strawberry.field(description="hit or miss; null without a cache")
    done: bool


@strawberry.type
class Prices:
    input: float = strawberry.field(description="USD per million input tokens")
    output: float = strawberry.field(description="USD per million output tokens")
    cached_input: float | None


@strawberry.type
class ModelCapabilities:
    streaming: bool
    tools: bool
    vision: bool
    json_mode: bool
    embeddings: bool


@strawberry.type(description="A model the caller may ask for, with the catalog's facts.")
class ModelEntry:
    id: str
    owned_by: str
    alias: bool
    deployments: list[str] = strawberry.field(description="provider/model, in config order")
    known: bool = strawberry.field(description="whether the catalog knows the model")
    context_window: int | None
    max_output_tokens: int | None
    prices: Prices | None
    capabilities: ModelCapabilities | None
    strengths: list[str]
    use_cases: list[str]
    quality: float | None


@strawberry.type
class DependencyStatus:
    name: str
    status: str = strawberry.field(description="up or down")
    latency_ms: float | None


@strawberry.type(description="GET /api/v1/monitoring/health's answer.")
class Health:
    status: str = strawberry.field(description="ok, or error when a dependency is down")
    dependencies: list[DependencyStatus]
    providers: list[DependencyStatus] = strawberry.field(
        description="each provider's last health verdict (healthy, degraded, down, unknown)"
    )


@strawberry.type
class Breaker:
    state: str = strawberry.field(description="closed, open or half_open")
    consecutive_failures: int
    retry_in_seconds: float | None


@strawberry.type
class DeploymentState:
    key: str
    model: str
    status: str
    in_flight: int
    error_rate: float
    latency_p50_ms: float | None
    breaker: Breaker | None = strawberry.field(description="null when its store is down")


@strawberry.type(description="A configured provider, as GET /api/v1/providers shows it.")
class ProviderState:
    name: str
    type: str
    status: str = strawberry.field(description="healthy, degraded, down or unknown")
    deployments: list[DeploymentState]


@strawberry.type
class UsageStats:
    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost_usd: str | None = strawberry.field(description="exact decimal; null when unpriced")
    unpriced_requests: int
    errors: int
    cache_hits: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


@strawberry.type
class UsageGroup:
    keys: JSON = strawberry.field(description="one value per groupBy name")
    stats: UsageStats


@strawberry.type(description="GET /api/v1/usage/summary's answer.")
class UsageReport:
    group_by: list[str]
    since: str | None
    until: str | None
    tenant: str | None
    groups: list[UsageGroup]
    totals: UsageStats
    truncated: bool


__all__ = [
    "Breaker",
    "CompletionInput",
    "CompletionResponse",
    "CostUsd",
    "DependencyStatus",
    "DeploymentState",
    "Health",
    "MessageInput",
    "ModelCapabilities",
    "ModelEntry",
    "Prices",
    "ProviderState",
    "TokenUsage",
    "UsageGroup",
    "UsageReport",
    "UsageStats",
]
