"""The ledger's database: an engine for a URL (a SQLite file by default, or PostgreSQL shared by several
instances), brought to the newest schema."""

from __future__ import annotations

import sqlite3
import time
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The advisory lock that makes instances starting at once migrate one after the other.
MIGRATION_LOCK = 0x5375_6242_6F74_4D69  # "SubBotMi"
# A peer that vanished (machine off, network cut) is noticed by TCP keepalive within about a minute, on
# both sides: the server then ends its session, which releases the advisory locks the peer held.
KEEPALIVE = {"idle": 30, "interval": 10, "count": 3}


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def database_url(url: str) -> URL:
    """`url` with PostgreSQL's driver named: `postgresql://` means psycopg 3 here (psycopg2 is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """`busy_timeout`: how long a SQLite write waits for another writer before "database is locked"."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "postgresql":
        # A connection the server dropped (restart, failover) is replaced rather than failing a poll.
        return create_engine(parsed, pool_pre_ping=True, connect_args=_pg_keepalive())
    engine = create_engine(parsed)
    event.listen(engine, "connect", partial(_sqlite_pragmas, busy_timeout))
    return engine


def lock_engine(url: str) -> Engine | None:
    """For a PostgreSQL ledger, an engine that does not pool, for advisory locks (`bot.store.lock.AdvisoryLock`):
    each lock a session of its own, ended when released. None for SQLite, whose lock is a file."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return create_engine(parsed, poolclass=NullPool, connect_args=_pg_keepalive())


def _pg_keepalive() -> dict[str, Any]:
    client = {f"keepalives_{key}": value for key, value in KEEPALIVE.items()}
    server = " ".join(f"-c tcp_keepalives_{key}={value}" for key, value in KEEPALIVE.items())
    return {"keepalives": 1, **client, "options": server}


def _sqlite_pragmas(busy_timeout: float, dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # A wait rather than "database is locked" at once; WAL lets staff read the ledger while the bot writes.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    _use_wal(cursor, busy_timeout)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _use_wal(cursor: Any, busy_timeout: float) -> None:
    """WAL is kept in the file: set once, by the first process. Setting it takes the database whole, and
    SQLite answers "locked" at once, without the busy wait, while another process is creating it (two
    processes started together on a new ledger): so it is looked at first, and set with a few tries."""
    deadline = time.monotonic() + busy_timeout
    while str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def migrate(engine: Engine) -> None:
    """Apply every migration not yet applied; a new database gets the whole schema."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Python's sqlite3 runs CREATE and ALTER outside any transaction unless one was begun by hand: a
            # process killed half way through a migration left some tables made and the version unstamped,
            # and every later start failed on "table already exists". One IMMEDIATE transaction makes the
            # whole upgrade one step, and makes a second process starting at the same moment wait for it.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            # PostgreSQL runs DDL in the transaction: a second instance starting at the same moment waits
            # here, then finds the schema at head.
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
