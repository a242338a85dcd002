"""Sessions: ``busy_until``, set while the session answers a message (one reply at a time
per session, on every replica; a lease, so a replica killed mid-reply leaves it busy only
until then). Indexes for deleting what is past its retention: stored responses by
``created_at``, idle sessions by ``updated_at``.

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
    op.create_index("ix_sessions_updated_at", "sessions", ["updated_at"])
    op.create_index("ix_responses_created_at", "responses", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_responses_created_at", table_name="responses")
    op.drop_index("ix_sessions_updated_at", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("busy_until")
