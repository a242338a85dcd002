"""Guardrails: an admin API tenant's ``guardrails`` (JSON, null: none), and the guardrails
that fired on a request on its usage row (JSON list of ``[name, on, action]``, null: none).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:  # batch: SQLite rebuilds, PostgreSQL alters
        batch.add_column(sa.Column("guardrails", sa.JSON()))
    with op.batch_alter_table("usage") as batch:
        batch.add_column(sa.Column("guardrails", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("usage") as batch:
        batch.drop_column("guardrails")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("guardrails")
