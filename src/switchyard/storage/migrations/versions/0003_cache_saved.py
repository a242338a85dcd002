"""The usage rows' cost_saved_usd: what a response-cache hit's stored answer had cost.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage") as batch:  # batch: SQLite rebuilds, PostgreSQL alters
        batch.add_column(
            sa.Column("cost_saved_usd", sa.Numeric(18, 10).with_variant(sa.String(40), "sqlite"))
        )


def downgrade() -> None:
    with op.batch_alter_table("usage") as batch:
        batch.drop_column("cost_saved_usd")
