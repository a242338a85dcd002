"""Tenants made through the admin API, virtual keys, and the usage rows' cache_hit.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage") as batch:  # batch: SQLite rebuilds, PostgreSQL alters
        batch.add_column(
            sa.Column("cache_hit", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "tenants",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("models", sa.JSON),
        sa.Column("default_model", sa.String(255)),
        sa.Column("limits", sa.JSON),
        sa.Column("budget", sa.JSON),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(255), nullable=False),
        sa.Column("user", sa.String(255)),
        sa.Column("name", sa.String(255)),
        sa.Column("models", sa.JSON),
        sa.Column("limits", sa.JSON),
        sa.Column("budget", sa.JSON),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_tenant", "api_keys")
    op.drop_table("api_keys")
    op.drop_table("tenants")
    with op.batch_alter_table("usage") as batch:
        batch.drop_column("cache_hit")
