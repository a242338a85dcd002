"""Usage: ``template``, the prompt template a request rendered (``name@version``; null: none),
so its cost can be told apart and grouped (``group_by=template``).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage") as batch:  # batch: SQLite rebuilds, PostgreSQL alters
        batch.add_column(sa.Column("template", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("usage") as batch:
        batch.drop_column("template")
