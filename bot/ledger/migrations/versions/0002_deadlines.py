"""deadlines: bot state, media of summaries, activities summarised, reminders and digests in the outbox

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("stored_path", sa.Text(), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"]),
        sa.ForeignKeyConstraint(["duplicate_of"], ["media.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_message_pk"), ["message_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_sha256"), ["sha256"], unique=False)
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_pk", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_activities_summary_pk", "messages", ["summary_pk"], ["id"])
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deliverable", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("for_day", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_replies_for_day"), ["for_day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replies_for_day"))
        batch_op.drop_column("for_day")
        batch_op.drop_column("deliverable")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint("fk_activities_summary_pk", type_="foreignkey")
        batch_op.drop_column("summary_pk")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_sha256"))
        batch_op.drop_index(batch_op.f("ix_media_message_pk"))
    op.drop_table("media")
    op.drop_table("bot_state")
