"""summary_activities: which activities each summary mail reported, accepted or not

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("activity_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["activity_pk"], ["activities.id"]),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_pk", "activity_pk"),
    )
    with op.batch_alter_table("summary_activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summary_activities_activity_pk"), ["activity_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_summary_activities_message_pk"), ["message_pk"], unique=False)
    # Before this table, only accepted summaries said what they reported: their activities carry summary_pk.
    op.execute(
        "INSERT INTO summary_activities (message_pk, activity_pk) "
        "SELECT summary_pk, id FROM activities WHERE summary_pk IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("summary_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summary_activities_message_pk"))
        batch_op.drop_index(batch_op.f("ix_summary_activities_activity_pk"))
    op.drop_table("summary_activities")
