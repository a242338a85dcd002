"""The responses table: stored Responses API answers (``previous_response_id``).

Revision ID: 0006
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(255)),
        sa.Column("key_id", sa.String(64)),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("input_items", sa.Text, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
    )
    op.create_index("ix_responses_tenant_created_at", "responses", ["tenant", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_responses_tenant_created_at", table_name="responses")
    op.drop_table("responses")
