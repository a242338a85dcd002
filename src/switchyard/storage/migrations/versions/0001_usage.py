"""The usage ledger: usage and usage_attempts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("tenant", sa.String(255)),
        sa.Column("key_id", sa.String(64)),
        sa.Column("user", sa.String(255)),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("alias", sa.String(255), nullable=False),
        sa.Column("provider", sa.String(255)),
        sa.Column("model", sa.String(255)),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("cached_tokens", sa.Integer, nullable=False),
        sa.Column("reasoning_tokens", sa.Integer, nullable=False),
        # exact: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float)
        sa.Column("cost_usd", sa.Numeric(18, 10).with_variant(sa.String(40), "sqlite")),
        sa.Column("priced", sa.Boolean, nullable=False),
        sa.Column("usage_estimated", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("ttft_ms", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("hedged", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(64)),
        sa.Column("http_status", sa.Integer, nullable=False),
    )
    op.create_index("ix_usage_created_at", "usage", ["created_at"])
    op.create_index("ix_usage_tenant_created_at", "usage", ["tenant", "created_at"])
    op.create_table(
        "usage_attempts",
        sa.Column(
            "usage_id",
            sa.String(32),
            sa.ForeignKey("usage.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("deployment", sa.String(512), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(64)),
        sa.Column("status", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("usage_attempts")
    op.drop_index("ix_usage_tenant_created_at", "usage")
    op.drop_index("ix_usage_created_at", "usage")
    op.drop_table("usage")
