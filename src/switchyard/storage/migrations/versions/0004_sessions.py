"""Conversations: the sessions and their messages (``/api/v1/sessions``).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(255)),
        sa.Column("key_id", sa.String(64)),
        sa.Column("user", sa.String(255)),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("system", sa.Text),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("summary_through", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sessions_owner", "sessions", ["tenant", "user", "key_id"])
    op.create_table(
        "session_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "session_id",
            sa.String(40),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("provider", sa.String(255)),
        sa.Column("model", sa.String(255)),
        sa.Column("usage", sa.JSON),
        sa.Column("cost", sa.JSON),
    )
    op.create_index("ix_session_messages_session", "session_messages", ["session_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_session_messages_session", "session_messages")
    op.drop_table("session_messages")
    op.drop_index("ix_sessions_owner", "sessions")
    op.drop_table("sessions")
