"""The tables: one ``usage`` row per request, its attempts in ``usage_attempts``; the tenants
made through the admin API (config tenants live in the config), the virtual keys, the
prompt templates made through the admin API, and the conversations' ``sessions`` and their
``session_messages``.

The migrations (``migrations/versions``) create exactly this schema; a change here needs a new
revision there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

COST_PLACES = Decimal("1e-10")


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC(18, 10) on PostgreSQL; text on SQLite, whose NUMERIC is a float underneath."""

    impl = Numeric(18, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 10))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = value.quantize(COST_PLACES)
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(COST_PLACES)


metadata = MetaData()

usage = Table(
    "usage",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("tenant", String(255)),
    Column("key_id", String(64)),
    Column("user", String(255)),
    Column("tags", JSON, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("alias", String(255), nullable=False),
    Column("provider", String(255)),
    Column("model", String(255)),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("cached_tokens", Integer, nullable=False),
    Column("reasoning_tokens", Integer, nullable=False),
    Column("cost_usd", ExactDecimal()),
    Column("priced", Boolean, nullable=False),
    Column("usage_estimated", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float),
    Column("attempts", Integer, nullable=False),
    Column("hedged", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_type", String(64)),
    Column("http_status", Integer, nullable=False),
    Column("cache_hit", Boolean, nullable=False, server_default=false()),
    Column("cost_saved_usd", ExactDecimal()),
    Column("guardrails", JSON),  # those that fired: [[name, on, action], ...]; null: none
    Column("template", String(255)),  # the prompt template rendered, "name@version"
    Index("ix_usage_created_at", "created_at"),
    Index("ix_usage_tenant_created_at", "tenant", "created_at"),
)

usage_attempts = Table(
    "usage_attempts",
    metadata,
    Column("usage_id", String(32), ForeignKey("usage.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("deployment", String(512), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error_type", String(64)),
    Column("status", Integer),
)

tenants = Table(
    "tenants",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("models", JSON),  # null: every alias
    Column("default_model", String(255)),
    Column("limits", JSON),
    Column("budget", JSON),
    Column("metadata", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("guardrails", JSON),  # its guardrails' settings, as given; null: none
)

# A key is ``sk-sy-<id><secret>``: ``id`` finds the row, ``hash`` (SHA-256 of the whole key)
# proves it. The secret itself is never stored.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("tenant", String(255), nullable=False),
    Column("user", String(255)),
    Column("name", String(255)),
    Column("models", JSON),  # null: the tenant's
    Column("limits", JSON),
    Column("budget", JSON),
    Column("metadata", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_keys_tenant", "tenant"),
)

# A conversation (``/api/v1/sessions``): its owner is the tenant, user and key that made it;
# ``summary`` stands for every message up to ``summary_through`` (a session_messages.id) once
# the history outgrew the model's context window and conversations.summarise_with is set.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant", String(255)),
    Column("key_id", String(64)),
    Column("user", String(255)),
    Column("model", String(255), nullable=False),
    Column("system", Text),
    Column("metadata", JSON, nullable=False),
    Column("summary", Text),
    Column("summary_through", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # answering a message until then (a reply at a time; a lease, so a dead replica's expires)
    Column("busy_until", DateTime(timezone=True)),
    Index("ix_sessions_owner", "tenant", "user", "key_id"),
    Index("ix_sessions_updated_at", "updated_at"),  # idle sessions past their retention
)

# One turn of a session, in order of ``id``; an assistant turn keeps its usage and cost.
session_messages = Table(
    "session_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "session_id",
        String(40),
        ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("request_id", String(128)),
    Column("provider", String(255)),
    Column("model", String(255)),
    Column("usage", JSON),
    Column("cost", JSON),
    Index("ix_session_messages_session", "session_id", "id"),
)

# Prompt templates made through the admin API (config templates live in the config): a new
# version is a new row, never an update, so a (name, version) a caller pinned never changes.
prompt_templates = Table(
    "prompt_templates",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("description", Text),
    Column("messages", JSON, nullable=False),  # [{role, content}], content a Jinja2 template
    Column("variables", JSON, nullable=False),  # the declared names
    Column("schema", JSON),  # the variables' JSON Schema
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Responses API answers (``POST /v1/responses`` with ``store`` not false): what
# ``previous_response_id`` continues; read and deleted only by their tenant's callers
responses = Table(
    "responses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(255)),
    Column("key_id", String(64)),
    Column("model", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("input_items", Text, nullable=False),  # JSON, as the client got it
    Column("response", Text, nullable=False),
    Index("ix_responses_tenant_created_at", "tenant", "created_at"),
    Index("ix_responses_created_at", "created_at"),  # past their retention
)

__all__ = [
    "ExactDecimal",
    "api_keys",
    "metadata",
    "prompt_templates",
    "responses",
    "session_messages",
    "sessions",
    "tenants",
    "usage",
    "usage_attempts",
]
