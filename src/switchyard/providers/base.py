"""The provider protocol: what every adapter implements, and the settings every adapter shares."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from switchyard.catalog.catalog import Catalog
from switchyard.errors import InvalidRequest
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ToolCallDelta,
)

MAX_REPLY_BYTES = 32 * 1024 * 1024
MAX_CONNECTIONS = 100


class Timeouts(BaseModel):
    """Seconds allowed for one attempt. A bare number in config means ``total``.

    ``connect``: opening the connection; ``first_token``: from sending the request to the first
    streamed chunk, or, for a call that is not streamed, to the reply's response headers (an
    upstream that has not begun to answer by then is a retryable ``Timeout`` and the next
    deployment is tried); ``total``: the whole attempt, for a call that is not streamed the
    whole reply read.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: float = Field(default=10.0, gt=0)
    first_token: float | None = Field(default=None, gt=0)
    total: float = Field(default=600.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"total": value}
        return value


def http_url(value: str | None) -> str | None:
    """``value`` when it is an http(s) URL with a host (or empty), for a URL setting's
    validator: ``127.0.0.1:9000/v1`` (no scheme) would fail every request, so it fails at load,
    naming its key (``providers.NAME.base_url``)."""
    if value and not _is_http_url(value):
        raise PydanticCustomError(
            "http_url",
            "must be an http:// or https:// URL with a host, such as "
            "http://127.0.0.1:9000/v1 (got '{given}')",
            {"given": value},
        )
    return value


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    try:
        _ = parts.port  # a port that is not a number raises
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class ProbeSettings(BaseModel):
    """``probe`` on a provider: an active ``health_check()`` every ``interval_seconds``.

    ``enabled: null`` (the default) leaves the choice to the adapter: self-hosted and free ones
    (``local``, ``fake``, ``ollama``, ``vllm``) are probed, paid APIs are not (a probe there
    costs requests against the account's limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_seconds: float = Field(default=30.0, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    enabled: bool | None = None


class Capabilities(BaseModel):
    """What an adapter can do; the README's provider table is generated from these."""

    model_config = ConfigDict(frozen=True)

    chat: bool = True
    stream: bool = True
    tools: bool = False
    vision: bool = False
    documents: bool = False  # PDF and plain-text documents (FilePart)
    json_mode: bool = False
    embeddings: bool = False
    list_models: bool = False


class ProviderSettings(BaseModel):
    """Settings every adapter accepts; each adapter subclasses this with its ``type`` literal."""

    model_config = ConfigDict(extra="forbid")

    type: str
    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout: Timeouts | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    max_reply_bytes: int = Field(
        default=MAX_REPLY_BYTES,
        gt=0,
        description=(
            "the largest reply body read from the upstream (and the longest line of a stream); "
            "past it the reply is an upstream protocol error, which fails over"
        ),
    )
    max_connections: int = Field(
        default=MAX_CONNECTIONS,
        gt=0,
        description="connections open to the upstream at once; more requests wait for one",
    )
    drop_unsupported: bool = Field(
        default=False,
        description="drop tools/images/JSON mode this adapter cannot serve instead of a 400",
    )
    probe: ProbeSettings = Field(default_factory=ProbeSettings)
    ca_bundle: str | None = Field(
        default=None,
        description="a PEM file of the certificate authorities this upstream's TLS certificate "
        "is checked against, instead of the system's (verification is always on)",
    )
    proxy: str | None = Field(
        default=None,
        description="an HTTP(S) proxy for this provider's requests (http://[user:pass@]host:port;"
        " HTTPS upstreams through CONNECT); the environment's HTTP(S)_PROXY are not used",
    )

    # self-hosted or free adapters set this: probing them costs nothing
    probe_by_default: ClassVar[bool] = False

    @field_validator("base_url", "proxy")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return http_url(value)

    @field_validator("ca_bundle")
    @classmethod
    def _readable_file(cls, value: str | None) -> str | None:
        if value is not None and not os.path.isfile(value):
            raise PydanticCustomError("ca_bundle", "no such file: '{given}'", {"given": value})
        return value

    def probe_enabled(self) -> bool:
        """Whether the background health prober calls this provider's ``health_check()``."""
        return self.probe_by_default if self.probe.enabled is None else self.probe.enabled

    def secrets(self) -> list[str]:
        """Values an upstream's reply must never echo to a client or a log: every secret
        setting (``api_key`` and any other ``SecretStr``) and every configured header value."""
        values = [v.get_secret_value() for _, v in self if isinstance(v, SecretStr)]
        proxy_password = urlsplit(self.proxy).password if self.proxy else None
        if proxy_password:
            values.append(proxy_password)
        return [*values, *self.headers.values()]

    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None


SettingsT = TypeVar("SettingsT", bound=ProviderSettings)

# What a health check found: the upstream answered a real request ("healthy"), or this adapter
# has nothing it can ask ("unknown": never reported as healthy). An unusable upstream raises.
HealthCheck = Literal["healthy", "unknown"]


class Provider(ABC, Generic[SettingsT]):
    """One configured upstream. ``name`` is its key in the config's ``providers`` map.

    The request a provider receives already names the upstream model in ``request.model``.
    Every method raises only :mod:`switchyard.errors` classes; the gateway applies timeouts,
    retries and failover around these calls. ``catalog`` is the gateway's (the packaged one
    with the config's overrides); None, as in a test building an adapter alone: the packaged
    default.
    """

    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, name: str, settings: SettingsT, *, catalog: Catalog | None = None) -> None:
        self.name = name
        self.settings = settings
        self.catalog = catalog

    @abstractmethod
    async def chat(self, request: ChatRequest) -> ChatResponse: ...

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """An async generator of chunks; the caller closes it (``aclose``) when done."""

    def takes_document_urls(self) -> bool:
        """Whether a document may reach this upstream by its URL rather than its bytes (OpenAI's
        chat completions has no field for one): routing skips a deployment that cannot, for
        a request that has one."""
        return self.capabilities.documents

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        raise InvalidRequest(
            f"provider {self.name!r} does not support embeddings",
            provider=self.name,
            param="model",
        )

    async def list_models(self) -> list[str]:
        return []

    async def health_check(self) -> HealthCheck:
        """Ask the upstream something cheap and real: ``"healthy"`` when it answered; raise a
        :class:`~switchyard.errors.SwitchyardError` when it is not usable. This default asks
        nothing, so it says ``"unknown"``: an adapter that can check overrides it."""
        return "unknown"

    async def start(self) -> None:
        """Acquire resources (called once, inside the running event loop)."""

    async def aclose(self) -> None:
        """Release resources (connections, threads, models)."""


def chunks_from_response(response: ChatResponse) -> list[ChatChunk]:
    """A whole reply as the chunks a stream of it would have carried (one a choice, the usage
    on the last): for a server that answered a stream request with one JSON reply."""
    chunks: list[ChatChunk] = []
    for choice in response.choices:
        message = choice.message
        calls = message.tool_calls or []
        chunks.append(
            ChatChunk(
                id=response.id,
                created=response.created,
                model=response.model,
                index=choice.index,
                role="assistant",
                text=message.text() if message.content is not None else None,
                reasoning=message.reasoning,
                refusal=message.refusal,
                tool_calls=[
                    ToolCallDelta(
                        index=n,
                        id=call.id,
                        name=call.name,
                        arguments=call.arguments,
                        thought_signature=call.thought_signature,
                    )
                    for n, call in enumerate(calls)
                ]
                or None,
                finish_reason=choice.finish_reason,
            )
        )
    chunks[-1].usage = response.usage
    return chunks


__all__ = [
    "Capabilities",
    "HealthCheck",
    "ProbeSettings",
    "Provider",
    "ProviderSettings",
    "SettingsT",
    "Timeouts",
    "chunks_from_response",
    "http_url",
]
