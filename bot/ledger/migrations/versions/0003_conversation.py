"""conversation: what a mail for a person said (excerpt), activities that keep their identity across versions

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# 0001 made the old key without a name: SQLite's batch mode finds it under this one, PostgreSQL named it itself.
OLD_KEY_SQLITE = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
OLD_KEY_POSTGRES = "activities_branch_key_title_key_version_key"


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excerpt", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity", sa.Integer(), nullable=True))
    # An activity before this migration was known by its title: each title's first row is its identity.
    op.execute(
        "UPDATE activities SET identity = (SELECT MIN(a.id) FROM activities a "
        "WHERE a.branch_key = activities.branch_key AND a.title_key = activities.title_key)"
    )
    _drop_old_key()
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_identity"), ["identity"], unique=False)
        batch_op.create_unique_constraint("uq_activities_identity_version", ["identity", "version"])


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint("uq_activities_identity_version", type_="unique")
        batch_op.drop_index(batch_op.f("ix_activities_identity"))
        batch_op.drop_column("identity")
    old_key = "uq_activities_branch_key" if op.get_context().dialect.name == "sqlite" else OLD_KEY_POSTGRES
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_unique_constraint(old_key, ["branch_key", "title_key", "version"])
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("excerpt")


def _drop_old_key() -> None:
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("activities", schema=None, naming_convention=OLD_KEY_SQLITE) as batch_op:
            batch_op.drop_constraint("uq_activities_branch_key", type_="unique")
    else:
        op.drop_constraint(OLD_KEY_POSTGRES, "activities", type_="unique")
