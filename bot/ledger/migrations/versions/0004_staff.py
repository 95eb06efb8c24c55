"""staff: what staff did (by command or by mail), letters about a mail beside its answer, addresses learned

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("who", sa.String(length=320), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("verb", sa.String(length=16), nullable=False),
        sa.Column("receipt", sa.String(length=32), nullable=True),
        sa.Column("message_pk", sa.Integer(), nullable=True),
        sa.Column("branch", sa.Text(), nullable=True),
        sa.Column("deliverable", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("refused", sa.Text(), nullable=False),
        sa.Column("source_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"]),
        sa.ForeignKeyConstraint(["source_pk"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_actions_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_actions_message_pk"), ["message_pk"], unique=False)
    op.create_table(
        "known_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("branch", sa.Text(), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=True),
        sa.Column("learned_at", sa.DateTime(), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["message_pk"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("known_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_known_addresses_address"), ["address"], unique=False)
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about_pk", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_replies_about_pk"), ["about_pk"], unique=False)
        batch_op.create_foreign_key("fk_replies_about_pk", "messages", ["about_pk"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("replies", schema=None) as batch_op:
        batch_op.drop_constraint("fk_replies_about_pk", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_replies_about_pk"))
        batch_op.drop_column("about_pk")
    with op.batch_alter_table("known_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_addresses_address"))
    op.drop_table("known_addresses")
    with op.batch_alter_table("staff_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_actions_message_pk"))
        batch_op.drop_index(batch_op.f("ix_staff_actions_at"))
    op.drop_table("staff_actions")
