"""The config file's shape, field for field as DESIGN.md states it (the names are a contract)."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from switchyard.cache.settings import AliasCacheSettings, CacheSettings
from switchyard.catalog.settings import CatalogSettings
from switchyard.events.settings import EventsSettings
from switchyard.guardrails import GuardrailSettings, check_names
from switchyard.guardrails.settings import MAX_GUARDRAILS
from switchyard.limits.settings import LimitsSettings
from switchyard.providers.base import Timeouts
from switchyard.providers.registry import ProviderConfig
from switchyard.resilience.settings import BreakerSettings, BreakerStoreSettings
from switchyard.response_store.settings import ResponseStoreSettings
from switchyard.storage.settings import StorageSettings
from switchyard.templates.settings import TemplateLimits, TemplateSettings, check_configured
from switchyard.tenancy.settings import TenantSettings, check_models
from switchyard.types import Prices
from switchyard.types.grants import Budget, Limits

Strategy = Literal[
    "fallback", "weighted", "cheapest", "fastest", "best_quality", "least_busy", "auto"
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


MASTER_KEY_ENV = "SWITCHYARD_MASTER_KEY"


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    master_key: SecretStr | None = Field(
        default=None, description=f"unset: ${MASTER_KEY_ENV} when that is set"
    )
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    body_timeout_seconds: float = Field(
        default=10.0, gt=0, description="longest time to read a request body (else 408)"
    )
    max_concurrent_requests: int = Field(
        default=1000, ge=1, description="requests in flight per process; more get 503"
    )
    drain_seconds: float = Field(default=30.0, ge=0, description="grace period on shutdown")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="the service's log level; info logs one line per request"
    )
    log_format: Literal["console", "json"] = Field(
        default="console",
        description="console: text lines (the request line in logfmt); json: one JSON object "
        "a line, with request_id and trace_id",
    )
    metrics: bool = Field(
        default=True, description="count every request for GET /metrics (Prometheus)"
    )
    default_model: str | None = Field(
        default=None,
        description="the model of a native request (/api/v1/complete) that names none: an "
        "alias or provider/model; unset: the first alias in models",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=256,
        description="processes sharing the port, each a whole gateway (see the README on what "
        "is per process with the memory backends)",
    )
    ssl_certfile: str | None = Field(
        default=None, description="PEM certificate (chain): serve HTTPS (with ssl_keyfile)"
    )
    ssl_keyfile: str | None = Field(default=None, description="PEM private key of ssl_certfile")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed "
        "(the client is the rightmost address that is not one of them)",
    )

    @field_validator("master_key", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            missing = "ssl_keyfile" if self.ssl_keyfile is None else "ssl_certfile"
            raise ValueError(f"{missing}: HTTPS needs both ssl_certfile and ssl_keyfile")
        return self

    @model_validator(mode="after")
    def _master_key_from_env(self) -> ServerSettings:
        """``SWITCHYARD_MASTER_KEY`` is the master key whenever the config sets none, whether
        or not the config refers to it (the refusal message and DESIGN.md name it)."""
        if self.master_key is None:
            key = os.environ.get(MASTER_KEY_ENV)
            if key:
                self.master_key = SecretStr(key)
        return self


class Deployment(_Section):
    provider: str
    model: str
    weight: float = Field(default=1.0, gt=0)
    timeout: Timeouts | None = None
    prices: Prices | None = None
    limits: Limits | None = Field(
        default=None,
        description="the provider's limits for this deployment: over them it is skipped "
        "(failover) before the provider would answer 429",
    )


Percentile = Annotated[str, Field(pattern=r"^p[1-9][0-9]?$")]


class HedgeSettings(BaseModel):
    """``hedge`` on a model alias."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delay: float | Percentile = Field(
        default=0.5,
        description='seconds to wait for an answer before hedging, or "p95" (any "pNN"): '
        "that percentile of the deployment's recent latency (time to first token for streams)",
    )
    max_extra: int = Field(default=1, ge=1, le=4, description="hedges in flight at most")
    min_delay: float = Field(default=0.05, ge=0, description='floor for a "pNN" delay')
    default_delay: float = Field(
        default=0.5, ge=0, description='the delay while "pNN" has too few measurements'
    )


class ModelAlias(_Section):
    name: str = Field(min_length=1)
    strategy: Strategy = "fallback"
    deployments: list[Deployment] = Field(min_length=1)
    circuit_breaker: BreakerSettings | None = None
    cost_weight: float = Field(
        default=0.5, ge=0, le=1, description="auto strategy: 0 = quality only, 1 = cost only"
    )
    context_window_fallbacks: list[str] = Field(
        default_factory=list,
        description="aliases to try when a request exceeds every deployment's context window",
    )
    hedge: HedgeSettings | None = Field(
        default=None, description="start the next deployment too when the first is slow"
    )
    mid_stream_failover: bool = Field(
        default=False,
        description="continue a stream that broke after its first chunk on the next deployment",
    )
    budget: Budget | None = Field(
        default=None, description="US dollars per period for this alias, whoever calls it"
    )
    cache: AliasCacheSettings | None = Field(
        default=None,
        description="the response cache for this alias (with a cache section: on, global TTL)",
    )
    trace_content: bool = Field(
        default=False,
        description="with tracing on, record this alias's prompts and completions on its spans",
    )
    guardrails: list[GuardrailSettings] = Field(
        default_factory=list,
        max_length=MAX_GUARDRAILS,
        description="checks on this alias's requests (on: input) and answers (on: output)",
    )

    _guardrail_names = field_validator("guardrails")(check_names)


class BackoffSettings(_Section):
    initial: float = Field(default=0.5, ge=0)
    maximum: float = Field(default=8.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1)


class RouterSettings(_Section):
    retries: int = Field(default=2, ge=0)
    deadline_seconds: float = Field(
        default=120.0,
        gt=0,
        allow_inf_nan=False,
        description="a request's whole time; a client's switchyard.timeout may only shorten it",
    )
    max_retry_after_seconds: float = Field(
        default=60.0,
        ge=0,
        allow_inf_nan=False,
        description="the longest Retry-After the gateway waits for; past it, it gives up",
    )
    max_direct_deployments: int = Field(
        default=10_000,
        ge=1,
        description="health and breaker records kept for provider/model names that are not "
        "configured deployments (least recently used first out)",
    )
    backoff: BackoffSettings = Field(default_factory=BackoffSettings)
    circuit_breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    breaker_store: BreakerStoreSettings = Field(default_factory=BreakerStoreSettings)


class TelemetrySettings(_Section):
    otel: bool = Field(
        default=False,
        description="OpenTelemetry traces, configured by the standard OTEL_* variables "
        "(OTEL_SDK_DISABLED=false turns them on too, =true off)",
    )


class ComparisonSettings(_Section):
    """``comparison``: how ``POST /api/v1/comparison`` (and ``gateway.compare``) judges."""

    model: str | None = Field(
        default=None,
        min_length=1,
        description="the judge: an alias or provider/model; unset: server.default_model, "
        "else the first alias",
    )
    both_orders: bool = Field(
        default=False,
        description="judge A/B and B/A at once (two calls) to cancel position bias",
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        le=5,
        description="new requests when the model's answer is not the JSON asked for",
    )
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="unset: the model's own default"
    )
    max_tokens: int = Field(default=512, ge=16, le=8192, description="per judgement call")
    max_essay_chars: int = Field(
        default=50_000, ge=100, le=1_000_000, description="longest essay accepted (400 past it)"
    )


class ConversationSettings(_Section):
    """``conversations``: server-side chat history (``/api/v1/sessions``,
    ``gateway.conversation(...)``), kept in ``storage`` when configured, else in memory.

    Defined here rather than in :mod:`switchyard.conversations` because the config layer sits
    below it (the import-linter layers); that package reads it."""

    max_messages: int = Field(
        default=200,
        ge=2,
        le=10_000,
        description="messages kept per session; the oldest are deleted past it",
    )
    max_message_chars: int = Field(
        default=100_000, ge=1, description="the longest message a client may send (413 past it)"
    )
    max_sessions: int = Field(
        default=1000, ge=1, description="sessions one owner (a user, or a key) may keep (409)"
    )
    memory_max_sessions: int = Field(
        default=10_000,
        ge=1,
        description="without storage: sessions kept in memory in all (least recently used out)",
    )
    page_size: int = Field(default=20, ge=1, description="sessions per page by default")
    max_page_size: int = Field(default=100, ge=1, description="the largest ?limit= accepted")
    reply_reserve_tokens: int = Field(
        default=1024,
        ge=0,
        description="tokens of the context window kept free for the reply when history is fitted",
    )
    summarise_with: str | None = Field(
        default=None,
        description="an alias (or provider/model): turns that no longer fit are summarised by "
        "it into one message instead of being dropped silently",
    )
    summary_max_tokens: int = Field(
        default=512, ge=16, description="the longest summary; its room is kept in the window"
    )
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="a session without a new message for this many days is gone (404) and is "
        "deleted with its messages; null: kept until deleted",
    )
    busy_seconds: float = Field(
        default=600,
        gt=0,
        le=86_400,
        description="a session answers one message at a time (another meanwhile: 409); a reply "
        "whose replica died keeps its session busy for at most this long",
    )

    @model_validator(mode="after")
    def _page_sizes(self) -> ConversationSettings:
        if self.page_size > self.max_page_size:
            raise ValueError("page_size: larger than max_page_size")
        return self


class SwitchyardConfig(BaseSettings):
    """The whole config. Environment variables ``SWITCHYARD_<SECTION>__<KEY>`` override the file
    (``SWITCHYARD_SERVER__PORT=9000``, ``SWITCHYARD_PROVIDERS__OPENAI__API_KEY=...``)."""

    model_config = SettingsConfigDict(
        env_prefix="SWITCHYARD_", env_nested_delimiter="__", extra="forbid"
    )

    server: ServerSettings = Field(default_factory=ServerSettings)
    providers: dict[str, Annotated[ProviderConfig, Field(discriminator="type")]] = Field(
        default_factory=dict
    )
    models: list[ModelAlias] = Field(default_factory=list)
    router: RouterSettings = Field(default_factory=RouterSettings)
    # the response cache; None: nothing is cached
    cache: CacheSettings | None = None
    # the usage ledger's and the keys' database; None: no ledger, no virtual keys
    storage: StorageSettings | None = None
    tenants: list[TenantSettings] = Field(default_factory=list)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    # usage events through FastStream; None: no events (FastStream is not imported)
    events: EventsSettings | None = None
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    # prompt templates (read-only here; the admin API adds more with storage) and their bounds
    templates: list[TemplateSettings] = Field(default_factory=list)
    template_limits: TemplateLimits = Field(default_factory=TemplateLimits)
    comparison: ComparisonSettings = Field(default_factory=ComparisonSettings)
    conversations: ConversationSettings = Field(default_factory=ConversationSettings)
    # stored Responses API answers (previous_response_id): in storage's database when there
    # is one, else in memory, bounded
    responses: ResponseStoreSettings = Field(default_factory=ResponseStoreSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the environment wins over the file, which wins over the defaults
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _references_resolve(self) -> SwitchyardConfig:
        seen: set[str] = set()
        for i, alias in enumerate(self.models):
            if alias.name in seen:
                raise ValueError(f"models[{i}].name: duplicate alias {alias.name!r}")
            seen.add(alias.name)
            for j, fallback in enumerate(alias.context_window_fallbacks):
                if fallback not in {a.name for a in self.models}:
                    raise ValueError(
                        f"models[{i}].context_window_fallbacks[{j}]: unknown alias {fallback!r}"
                    )
            for j, deployment in enumerate(alias.deployments):
                if deployment.provider not in self.providers:
                    known = ", ".join(sorted(self.providers)) or "none"
                    raise ValueError(
                        f"models[{i}].deployments[{j}].provider: unknown provider "
                        f"{deployment.provider!r} (configured: {known})"
                    )
        for i, alias in enumerate(self.models):
            cache = alias.cache
            if cache is not None and self.cache is None:
                raise ValueError(f"models[{i}].cache: needs a cache section (the backend)")
            semantic = cache.semantic if cache is not None else None
            if semantic is not None:
                embedder = semantic.embedding_model
                provider = embedder.split("/", 1)[0] if "/" in embedder else None
                if embedder not in seen and provider not in self.providers:
                    raise ValueError(
                        f"models[{i}].cache.semantic.embedding_model: unknown alias {embedder!r}"
                    )
        for where, name in (
            ("server.default_model", self.server.default_model),
            ("conversations.summarise_with", self.conversations.summarise_with),
        ):
            if name is not None and name not in seen:
                provider, sep, model = name.partition("/")
                if not (sep and model and provider in self.providers):
                    raise ValueError(
                        f"{where}: {name!r} is neither an alias nor "
                        "provider/model of a configured provider"
                    )
        if self.tenants and self.storage is None:
            raise ValueError("tenants: need a storage section (their keys are stored there)")
        names: set[str] = set()
        for i, tenant in enumerate(self.tenants):
            if tenant.name in names:
                raise ValueError(f"tenants[{i}].name: duplicate tenant {tenant.name!r}")
            names.add(tenant.name)
            check_models(tenant.models, seen, self.providers, f"tenants[{i}].models")
            default = tenant.default_model
            if default is not None and not tenant.grant().allows(default):
                raise ValueError(f"tenants[{i}].default_model: {default!r} is not in its models")
            if default is not None and default not in seen:
                raise ValueError(f"tenants[{i}].default_model: unknown alias {default!r}")
        check_configured(self.templates, self.template_limits)
        return self


__all__ = [
    "MASTER_KEY_ENV",
    "BackoffSettings",
    "ComparisonSettings",
    "ConversationSettings",
    "Deployment",
    "HedgeSettings",
    "ModelAlias",
    "RouterSettings",
    "ServerSettings",
    "Strategy",
    "SwitchyardConfig",
    "TelemetrySettings",
]
