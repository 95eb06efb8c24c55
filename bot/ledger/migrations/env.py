"""Alembic environment: run by `bot.ledger.database.migrate` on the connection it is given."""

from __future__ import annotations

from alembic import context

from bot.ledger.schema import Base, ours

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_object=ours)
with context.begin_transaction():
    context.run_migrations()
