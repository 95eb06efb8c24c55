"""The migrations build exactly the schema the models describe, and go down again cleanly."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.jobs.scheduler import start_scheduler
from bot.ledger.database import MIGRATIONS, migrate, open_engine, sqlite_url
from bot.ledger.schema import Base, ours


def test_migrated_database_matches_the_models(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path / "ledger.sqlite3"))
    migrate(engine)
    start_scheduler(engine, dt.UTC, []).shutdown()  # APScheduler's own table sits beside ours
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrations_go_down_to_nothing_and_up_again(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path / "ledger.sqlite3"))
    migrate(engine)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert {"messages", "media", "replies", "activities"} <= set(inspect(engine).get_table_names())


def test_a_process_opening_a_new_ledger_another_is_creating_waits_and_gets_wal(tmp_path: Path) -> None:
    # Two `subbot poll` started together on a new ledger: one is still writing it (not yet in WAL mode)
    # when the other connects, whose switch to WAL SQLite refuses at once. It tries again, and gets it.
    path = tmp_path / "ledger.sqlite3"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("BEGIN IMMEDIATE")
    first.execute("CREATE TABLE being_made (x)")
    released = threading.Timer(0.5, lambda: first.execute("COMMIT"))
    released.start()
    try:
        engine = open_engine(sqlite_url(path), busy_timeout=10.0)
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        engine.dispose()
    finally:
        released.join()
        first.close()
    assert mode == "wal"
