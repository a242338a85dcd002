"""Sessions: ``busy_until``, set while the session answers a message (one reply at a time
per session, on every replica; a lease, so a replica killed mid-reply leaves it busy only
until then).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:  # batch: SQLite rebuilds, PostgreSQL alters
        batch.add_column(sa.Column("busy_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("busy_until")
